import * as argon2 from '@node-rs/argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMON_PASSWORDS } from '../../src/core/common-passwords.js';
import { isGatehouseError } from '../../src/core/errors.js';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PasswordHasher,
  checkPasswordPolicy,
  normalizePassword,
  serviceContextWords,
} from '../../src/core/password.js';

// Spy on the native module through vitest's module mock so tests can prove "no hashing happened".
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@node-rs/argon2')>();
  return { ...actual, hash: vi.fn(actual.hash), verify: vi.fn(actual.verify) };
});

afterEach(() => {
  vi.mocked(argon2.hash).mockClear();
  vi.mocked(argon2.verify).mockClear();
});

function policyMessage(password: string, context?: { username?: string; contextWords?: readonly string[] }): string | null {
  try {
    checkPasswordPolicy(password, context);
    return null;
  } catch (error) {
    if (isGatehouseError(error, 'PASSWORD_POLICY')) return error.message;
    throw error;
  }
}

describe('checkPasswordPolicy', () => {
  it('accepts ordinary passphrases without composition rules', () => {
    expect(policyMessage('correct horse battery staple')).toBeNull();
    expect(policyMessage('alllowercaseletters')).toBeNull();
    expect(policyMessage('🔒🔑🚪🏠🌙⭐🌊🍀')).toBeNull(); // 8 code points, 16 UTF-16 units
    expect(policyMessage('x'.repeat(PASSWORD_MAX_LENGTH))).toBeNull();
  });

  it('rejects passwords shorter than 8 code points after NFKC', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(8);
    expect(policyMessage('Tr0ub4!')).toMatch(/too short.*at least 8/);
    expect(policyMessage('🔒🔑🚪🏠🌙⭐🌊')).toMatch(/too short/); // 14 UTF-16 units but 7 code points
    expect(policyMessage('')).toMatch(/too short/);
  });

  it('rejects passwords longer than 128 code points after NFKC', () => {
    expect(policyMessage('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toMatch(/too long.*at most 128/);
    // U+FDFA is one code point that NFKC expands to 18: 8 of them become 144.
    expect(policyMessage('\uFDFA'.repeat(8))).toMatch(/too long/);
    expect(policyMessage('x'.repeat(1_000_000))).toMatch(/too long/);
  });

  it('rejects the username, case-insensitively and after NFKC', () => {
    expect(policyMessage('alice.smith', { username: 'alice.smith' })).toMatch(/username/);
    expect(policyMessage('ALICE.SMITH', { username: 'alice.smith' })).toMatch(/username/);
    expect(policyMessage('ＡＬＩＣＥ.ＳＭＩＴＨ', { username: 'alice.smith' })).toMatch(/username/);
  });

  it('rejects a password built on the username: what is left without it must pass on its own (ASVS 6.2.11)', () => {
    for (const pw of ['alice.smith.2026', 'Alice.Smith!!', 'alice.smith12345678', 'alice.smithalice.smith', 'alice.smithpassword']) {
      expect(policyMessage(pw, { username: 'alice.smith' }), pw).toMatch(/built on the username, the service's name or its address/);
    }
    expect(policyMessage('alice.smith walks the long way home', { username: 'alice.smith' })).toBeNull();
  });

  it('rejects a password built on the product name, always, or on the service\'s host words', () => {
    const contextWords = serviceContextWords('https://notes.acme-shop.com');
    expect(contextWords).toEqual(['gatehouse', 'notes.acme-shop.com', 'notes', 'acme-shop']);
    for (const pw of ['Gatehouse2026!', 'GATEHOUSE123', 'gatehousepassword', 'acme-shop2026', 'Notes.Acme-Shop.com', 'notes.acme-shop.com!']) {
      expect(policyMessage(pw, { contextWords }), pw).toMatch(/built on the username, the service's name or its address/);
    }
    // The product name is a context word even where no host is given.
    expect(policyMessage('gatehouse!2026')).toMatch(/built on/);
    // Mentioning them is fine when the rest is a password of its own.
    expect(policyMessage('my gatehouse at acme-shop has a moat', { contextWords })).toBeNull();
    // Words of the host under four letters are not context words; local hosts are.
    expect(serviceContextWords('http://localhost:8080')).toEqual(['gatehouse', 'localhost']);
    expect(serviceContextWords('http://127.0.0.1:8080')).toEqual(['gatehouse', '127.0.0.1']);
    expect(serviceContextWords('http://[::1]:8080')).toEqual(['gatehouse', '::1']);
  });

  it('rejects common breached passwords, case-insensitively and after NFKC', () => {
    for (const pw of ['password', 'Password1', 'PASSWORD123', '12345678', 'qwertyuiop', 'iloveyou', 'ｐａｓｓｗｏｒｄ１']) {
      expect(policyMessage(pw)).toMatch(/most commonly used/);
    }
  });

  it('never puts the password in the message', () => {
    for (const pw of ['qZ9!x', 'password1', 'x'.repeat(200)]) {
      expect(policyMessage(pw)).not.toContain(pw);
    }
  });

  it('uses a blocklist of about 200 lower-case entries, all long enough to pass the length rule', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThanOrEqual(190);
    for (const pw of COMMON_PASSWORDS) {
      expect(pw).toBe(pw.toLowerCase());
      expect([...pw].length).toBeGreaterThanOrEqual(PASSWORD_MIN_LENGTH);
      expect(normalizePassword(pw)).toBe(pw);
    }
  });
});

describe('normalizePassword', () => {
  it('applies NFKC', () => {
    expect(normalizePassword('ｐａｓｓ')).toBe('pass');
    expect(normalizePassword('e\u0301')).toBe('é');
    expect(normalizePassword('ﬁ')).toBe('fi');
  });
});

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with Argon2id at the OWASP minimum and verifies', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'correct horse battery stapl')).toBe(false);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('normalises before hashing, so fullwidth and composed forms match', async () => {
    const hash = await hasher.hash('ｐａｓｓｐｈｒａｓｅ ｏｎｅ');
    expect(await hasher.verify(hash, 'passphrase one')).toBe(true);
    const composed = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verify(composed, 'cafe\u0301 au lait')).toBe(true);
  });

  it('returns false, not a throw, for malformed hashes', async () => {
    for (const bad of ['', 'not a hash', '$argon2id$v=19$m=1,t=1,p=1$xx$yy', '$2b$10$abcdefghijklmnopqrstuv']) {
      await expect(hasher.verify(bad, 'some password')).resolves.toBe(false);
    }
    await expect(hasher.verify(undefined as unknown as string, 'some password')).resolves.toBe(false);
  });

  it('rejects over-long inputs without hashing', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    vi.mocked(argon2.hash).mockClear();
    vi.mocked(argon2.verify).mockClear();
    await expect(hasher.verify(hash, 'x'.repeat(PASSWORD_MAX_LENGTH + 1))).resolves.toBe(false);
    await expect(hasher.verify(hash, '😀'.repeat(300))).resolves.toBe(false); // 1200 bytes raw
    await expect(hasher.verify(hash, 'x'.repeat(5_000_000))).resolves.toBe(false);
    await expect(hasher.verifyDummy('x'.repeat(5_000_000))).resolves.toBe(false);
    await expect(hasher.hash('x'.repeat(PASSWORD_MAX_LENGTH + 1))).rejects.toMatchObject({ code: 'PASSWORD_POLICY' });
    expect(argon2.verify).not.toHaveBeenCalled();
    expect(argon2.hash).not.toHaveBeenCalled();
  });

  it('verifyDummy returns false and does a real verify against one lazily made hash', async () => {
    const fresh = new PasswordHasher();
    vi.mocked(argon2.hash).mockClear();
    await expect(fresh.verifyDummy('any password at all')).resolves.toBe(false);
    await expect(fresh.verifyDummy('another password')).resolves.toBe(false);
    expect(argon2.hash).toHaveBeenCalledTimes(1);
    expect(argon2.verify).toHaveBeenCalledTimes(2);
    const [dummyHash] = vi.mocked(argon2.verify).mock.calls[0] ?? [];
    expect(dummyHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('warmUp makes the dummy hash ahead of time', async () => {
    const fresh = new PasswordHasher();
    await fresh.warmUp();
    await fresh.warmUp();
    expect(argon2.hash).toHaveBeenCalledTimes(1);
    await fresh.verifyDummy('some password');
    expect(argon2.hash).toHaveBeenCalledTimes(1);
  });

  it('takes about as long for an unknown user as for a wrong password', async () => {
    const hash = await hasher.hash('the real password');
    await hasher.warmUp();
    // Interleaved so that load from other test files affects both sides alike.
    let wrong = 0;
    let unknown = 0;
    for (let i = 0; i < 4; i++) {
      let start = performance.now();
      await hasher.verify(hash, 'a wrong password');
      wrong += performance.now() - start;
      start = performance.now();
      await hasher.verifyDummy('a wrong password');
      unknown += performance.now() - start;
    }
    expect(unknown / wrong).toBeGreaterThan(0.4);
    expect(unknown / wrong).toBeLessThan(2.5);
  });

  it('may raise but never lower the cost parameters', async () => {
    expect(() => new PasswordHasher({ memoryCost: 19455 })).toThrow(TypeError);
    expect(() => new PasswordHasher({ timeCost: 1 })).toThrow(TypeError);
    expect(() => new PasswordHasher({ parallelism: 0 })).toThrow(TypeError);
    expect(() => new PasswordHasher({ timeCost: 2.5 })).toThrow(TypeError);
    const stronger = new PasswordHasher({ timeCost: 3 });
    expect(stronger.params).toStrictEqual({ memoryCost: 19456, timeCost: 3, parallelism: 1 });
    const hash = await stronger.hash('correct horse battery staple');
    expect(hash).toMatch(/\$m=19456,t=3,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
  });

  it('needsRehash flags weaker or foreign hashes', async () => {
    const weak = await argon2.hash('pw', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(hasher.needsRehash(weak)).toBe(true);
    expect(hasher.needsRehash('not a hash')).toBe(true);
    const strong = await hasher.hash('correct horse battery staple');
    expect(new PasswordHasher({ timeCost: 3 }).needsRehash(strong)).toBe(true);
  });
});
