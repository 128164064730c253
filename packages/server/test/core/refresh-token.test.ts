import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKeyRing } from '../../src/core/keys.js';
import {
  MAX_SUCCESSOR_DEPTH,
  deriveAlong,
  deriveReplacement,
  deriveSuccessor,
  deriveSuccessorN,
  generateRefreshToken,
  hashRefreshToken,
  isWellFormedRefreshToken,
} from '../../src/core/refresh-token.js';

const key = deriveKeyRing('k7#Qv9!pL2@xR5$wN8^zT1&mB4*cH6(d').refreshDerivation;

describe('generateRefreshToken', () => {
  it('is ghr_ plus 43 base64url characters encoding 32 bytes', () => {
    const token = generateRefreshToken();
    expect(token).toMatch(/^ghr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(isWellFormedRefreshToken(token)).toBe(true);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 2000 }, generateRefreshToken));
    expect(tokens.size).toBe(2000);
  });
});

describe('isWellFormedRefreshToken', () => {
  const good = `ghr_${Buffer.alloc(32, 7).toString('base64url')}`;

  it('accepts exactly the generated shape', () => {
    expect(isWellFormedRefreshToken(good)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['no prefix', good.slice(4)],
    ['wrong prefix', `ghx_${good.slice(4)}`],
    ['upper-case prefix', `GHR_${good.slice(4)}`],
    ['one char short', good.slice(0, -1)],
    ['one char long', `${good}A`],
    ['standard base64 characters', `ghr_${'+'.repeat(42)}A`],
    ['padding', `${good.slice(0, -1)}=`],
    ['non-canonical last character', `${good.slice(0, -1)}B`],
    ['trailing newline', `${good}\n`],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0'],
  ])('rejects %s', (_name, value) => {
    expect(isWellFormedRefreshToken(value)).toBe(false);
  });

  it('rejects non-strings without throwing', () => {
    for (const value of [undefined, null, 42, {}]) expect(isWellFormedRefreshToken(value as string)).toBe(false);
  });
});

describe('hashRefreshToken', () => {
  it('is stable SHA-256 base64url of the whole token', () => {
    const token = generateRefreshToken();
    const expected = createHash('sha256').update(token).digest('base64url');
    expect(hashRefreshToken(token)).toBe(expected);
    expect(hashRefreshToken(token)).toBe(hashRefreshToken(token));
    expect(hashRefreshToken(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs for different tokens and never equals the token', () => {
    const a = generateRefreshToken();
    const b = generateRefreshToken();
    expect(hashRefreshToken(a)).not.toBe(hashRefreshToken(b));
    expect(hashRefreshToken(a)).not.toContain(a.slice(4));
  });
});

describe('deriveSuccessor', () => {
  it('is deterministic and well formed', () => {
    const token = generateRefreshToken();
    const successor = deriveSuccessor(key, token);
    expect(deriveSuccessor(key, token)).toBe(successor);
    expect(successor).not.toBe(token);
    expect(isWellFormedRefreshToken(successor)).toBe(true);
  });

  it('depends on the key and on the token', () => {
    const token = generateRefreshToken();
    const otherKey = createSecretKey(randomBytes(32));
    expect(deriveSuccessor(otherKey, token)).not.toBe(deriveSuccessor(key, token));
    expect(deriveSuccessor(key, generateRefreshToken())).not.toBe(deriveSuccessor(key, token));
  });

  it('is not computable from the token alone (not a plain hash of it)', () => {
    const token = generateRefreshToken();
    const plain = `ghr_${createHash('sha256').update(token).digest('base64url')}`;
    expect(deriveSuccessor(key, token)).not.toBe(plain);
  });
});

describe('deriveSuccessorN', () => {
  it('applies deriveSuccessor n times', () => {
    const token = generateRefreshToken();
    const once = deriveSuccessor(key, token);
    expect(deriveSuccessorN(key, token, 1)).toBe(once);
    expect(deriveSuccessorN(key, token, 2)).toBe(deriveSuccessor(key, once));
    expect(deriveSuccessorN(key, token, 3)).toBe(deriveSuccessorN(key, deriveSuccessorN(key, token, 2), 1));
  });

  it(`accepts 1..${MAX_SUCCESSOR_DEPTH} and throws TypeError outside`, () => {
    const token = generateRefreshToken();
    expect(isWellFormedRefreshToken(deriveSuccessorN(key, token, MAX_SUCCESSOR_DEPTH))).toBe(true);
    expect(MAX_SUCCESSOR_DEPTH).toBe(32);
    for (const n of [0, -1, 33, 1000, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => deriveSuccessorN(key, token, n)).toThrow(TypeError);
    }
  });
});

describe('deriveReplacement', () => {
  it('is deterministic, well formed, and never the successor or the token itself', () => {
    const token = generateRefreshToken();
    const replacement = deriveReplacement(key, token);
    expect(deriveReplacement(key, token)).toBe(replacement);
    expect(isWellFormedRefreshToken(replacement)).toBe(true);
    expect(replacement).not.toBe(deriveSuccessor(key, token));
    expect(replacement).not.toBe(token);
    expect(deriveReplacement(createSecretKey(randomBytes(32)), token)).not.toBe(replacement);
  });
});

describe('deriveAlong', () => {
  it('follows derived and replacement steps in order', () => {
    const token = generateRefreshToken();
    expect(deriveAlong(key, token, ['derived'])).toBe(deriveSuccessor(key, token));
    expect(deriveAlong(key, token, ['replacement'])).toBe(deriveReplacement(key, token));
    expect(deriveAlong(key, token, ['derived', 'replacement', 'derived'])).toBe(
      deriveSuccessor(key, deriveReplacement(key, deriveSuccessor(key, token))),
    );
  });

  it(`takes 1..${MAX_SUCCESSOR_DEPTH} steps and throws TypeError outside`, () => {
    const token = generateRefreshToken();
    expect(() => deriveAlong(key, token, [])).toThrow(TypeError);
    expect(() => deriveAlong(key, token, Array(MAX_SUCCESSOR_DEPTH + 1).fill('derived'))).toThrow(TypeError);
    expect(isWellFormedRefreshToken(deriveAlong(key, token, Array(MAX_SUCCESSOR_DEPTH).fill('replacement')))).toBe(true);
  });
});
