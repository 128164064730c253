import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/core/errors.js';
import { DOCS_PLACEHOLDER_SECRET, deriveKeyRing, secretProblem } from '../../src/core/keys.js';

const SECRET = 'k7#Qv9!pL2@xR5$wN8^zT1&mB4*cH6(d';

describe('secretProblem', () => {
  it('accepts a long random secret', () => {
    expect(secretProblem(SECRET)).toBeNull();
    expect(secretProblem('dGhpcyBpcyBub3QgcmVhbGx5IHJhbmRvbSBidXQgbG9uZyBlbm91Z2g')).toBeNull();
  });

  it.each([undefined, '', '   '])('rejects a missing or empty secret (%j)', (secret) => {
    expect(secretProblem(secret)).toMatch(/missing or empty/);
  });

  it('rejects secrets shorter than 32 UTF-8 bytes, counting bytes not characters', () => {
    expect(secretProblem('aB3$eF6&hI9(kL2@nO5^qR8*tU1!wX4')).toMatch(/31 bytes/); // 31 ASCII chars
    // 11 three-byte characters are 33 bytes: long enough in bytes, though only 11 characters.
    const cjk = '漢字日本語中文韓国学習';
    expect(cjk).toHaveLength(11);
    expect(Buffer.byteLength(cjk)).toBe(33);
    expect(secretProblem(cjk)).toBeNull();
    expect(secretProblem(cjk.slice(0, 10))).toMatch(/30 bytes/);
  });

  it.each([
    'secret', 'changeme', 'change-me', 'your-256-bit-secret', 'supersecret', 'password', 'gatehouse',
    'SECRET', 'ChangeMe', 'Your-256-Bit-Secret', DOCS_PLACEHOLDER_SECRET, DOCS_PLACEHOLDER_SECRET.toUpperCase(),
    'replace-me-with-32-random-bytes...', 'gatehousegatehousegatehousegatehouse',
  ])('rejects the placeholder %j', (secret) => {
    expect(secretProblem(secret)).toMatch(/placeholder/);
  });

  it('rejects long but low-entropy secrets', () => {
    expect(secretProblem('a'.repeat(64))).toMatch(/distinct characters/);
    expect(secretProblem('abcdefg'.repeat(8))).toMatch(/distinct characters/);
    expect(secretProblem('01010101010101010101010101010101')).toMatch(/distinct characters/);
    expect(secretProblem('abcdefgh'.repeat(4))).toBeNull(); // 8 distinct is the floor
  });

  it('never echoes the secret', () => {
    for (const secret of ['short-secret-value', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'supersecret', DOCS_PLACEHOLDER_SECRET]) {
      const problem = secretProblem(secret);
      expect(problem).not.toBeNull();
      expect(problem).not.toContain(secret);
    }
  });
});

describe('deriveKeyRing', () => {
  it('derives three distinct 32-byte secret keys', () => {
    const keys = deriveKeyRing(SECRET);
    const raw = [keys.accessToken, keys.csrf, keys.refreshDerivation].map((k) => {
      expect(k.type).toBe('secret');
      expect(k.symmetricKeySize).toBe(32);
      return k.export().toString('hex');
    });
    expect(new Set(raw).size).toBe(3);
    expect(raw).not.toContain(Buffer.from(SECRET).subarray(0, 32).toString('hex'));
  });

  it('is deterministic and depends on the secret', () => {
    const a = deriveKeyRing(SECRET);
    const b = deriveKeyRing(SECRET);
    const c = deriveKeyRing(`${SECRET}!`);
    expect(a.accessToken.equals(b.accessToken)).toBe(true);
    expect(a.csrf.equals(b.csrf)).toBe(true);
    expect(a.refreshDerivation.equals(b.refreshDerivation)).toBe(true);
    expect(a.accessToken.equals(c.accessToken)).toBe(false);
    expect(a.csrf.equals(c.csrf)).toBe(false);
  });

  it('is HKDF-SHA256 with purpose labels (pinned so a refactor cannot silently rotate every key)', () => {
    const expected = Buffer.from(hkdfSync('sha256', SECRET, 'gatehouse/v1/hkdf-salt', 'gatehouse/v1/access-token', 32));
    expect(deriveKeyRing(SECRET).accessToken.export().equals(expected)).toBe(true);
  });

  it('keys are not interchangeable: a MAC under one subkey differs under another', () => {
    const keys = deriveKeyRing(SECRET);
    const mac = (k: typeof keys.csrf) => createHmac('sha256', k).update('x').digest('hex');
    expect(mac(keys.csrf)).not.toBe(mac(keys.accessToken));
    expect(mac(keys.csrf)).not.toBe(mac(keys.refreshDerivation));
  });

  it('refuses an unacceptable secret with CONFIG_INVALID', () => {
    expect(() => deriveKeyRing('changeme')).toThrow(GatehouseError);
    try {
      deriveKeyRing(DOCS_PLACEHOLDER_SECRET);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });

  it('returns a frozen ring', () => {
    expect(Object.isFrozen(deriveKeyRing(SECRET))).toBe(true);
  });
});
