import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { csrfTokensEqual, mintCSRFToken, verifyCSRFToken, type CSRFBinding } from '../../src/core/csrf.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { generateRefreshToken } from '../../src/core/refresh-token.js';

const keys = deriveKeyRing('k7#Qv9!pL2@xR5$wN8^zT1&mB4*cH6(d');
const key = keys.csrf;
const session: CSRFBinding = { kind: 'session', id: 'sess-1' };

/** Replaces the character at `index` with a different base64url character. */
function flip(token: string, index: number): string {
  const c = token[index] === 'A' ? 'B' : 'A';
  return token.slice(0, index) + c + token.slice(index + 1);
}

describe('mintCSRFToken / verifyCSRFToken', () => {
  it('round-trips for the same binding', () => {
    const token = mintCSRFToken(key, session);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(verifyCSRFToken(key, token, session)).toBe(true);
    expect(verifyCSRFToken(key, token, { kind: 'session', id: 'sess-1' })).toBe(true);
  });

  it('is the documented HMAC over kind, id and nonce', () => {
    const token = mintCSRFToken(key, session);
    const [nonce = '', mac] = token.split('.');
    expect(Buffer.from(nonce, 'base64url')).toHaveLength(16);
    expect(mac).toBe(createHmac('sha256', key).update(`session\0sess-1\0${nonce}`).digest('base64url'));
  });

  it('uses a fresh nonce each time', () => {
    expect(mintCSRFToken(key, session)).not.toBe(mintCSRFToken(key, session));
  });

  it("rejects another session's token", () => {
    const other = mintCSRFToken(key, { kind: 'session', id: 'sess-2' });
    expect(verifyCSRFToken(key, other, session)).toBe(false);
  });

  it('does not let a session token pass as anonymous with the same id, or the reverse', () => {
    const sessionToken = mintCSRFToken(key, { kind: 'session', id: 'abc' });
    const anonymousToken = mintCSRFToken(key, { kind: 'anonymous', id: 'abc' });
    expect(verifyCSRFToken(key, sessionToken, { kind: 'anonymous', id: 'abc' })).toBe(false);
    expect(verifyCSRFToken(key, anonymousToken, { kind: 'session', id: 'abc' })).toBe(false);
    expect(verifyCSRFToken(key, anonymousToken, { kind: 'anonymous', id: 'abc' })).toBe(true);
  });

  it('rejects tokens made with another key, including other subkeys of the same secret', () => {
    expect(verifyCSRFToken(key, mintCSRFToken(createSecretKey(randomBytes(32)), session), session)).toBe(false);
    expect(verifyCSRFToken(key, mintCSRFToken(keys.accessToken, session), session)).toBe(false);
  });

  it('rejects a tampered nonce or mac', () => {
    const token = mintCSRFToken(key, session);
    expect(verifyCSRFToken(key, flip(token, 0), session)).toBe(false);
    expect(verifyCSRFToken(key, flip(token, 10), session)).toBe(false);
    expect(verifyCSRFToken(key, flip(token, 23), session)).toBe(false);
    expect(verifyCSRFToken(key, flip(token, 50), session)).toBe(false);
    const [nonce, mac] = token.split('.');
    expect(verifyCSRFToken(key, `${mac}.${nonce}`, session)).toBe(false);
    expect(verifyCSRFToken(key, `${randomBytes(16).toString('base64url')}.${mac}`, session)).toBe(false);
  });

  it('rejects non-canonical base64url spellings of a valid token', () => {
    const token = mintCSRFToken(key, session);
    // The last nonce char carries 4 unused bits; setting one gives the same bytes, a different string.
    const last = token[21] ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1] ?? 'B';
    const variant = token.slice(0, 21) + sibling + token.slice(22);
    expect(Buffer.from(variant.slice(0, 22), 'base64url').equals(Buffer.from(token.slice(0, 22), 'base64url'))).toBe(true);
    expect(verifyCSRFToken(key, variant, session)).toBe(false);
  });

  it('returns false, never throws, on garbage', () => {
    const token = mintCSRFToken(key, session);
    const garbage: unknown[] = [
      undefined, null, '', '.', 'a.b', token.replace('.', ''), `${token}.`, `${token}.x`, `.${token}`,
      token.replace('.', '..'), `${token} `, ` ${token}`, token.replace(/[A-Za-z]/, '+'), token.replace(/[A-Za-z]/, '='),
      `${token.slice(0, 22)}.${'é'.repeat(43)}`, 'x'.repeat(100_000), 42, {}, ['a', 'b'],
      'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0',
      generateRefreshToken(),
    ];
    for (const value of garbage) {
      expect(verifyCSRFToken(key, value as string, session)).toBe(false);
    }
  });

  it('returns false for a broken binding instead of throwing', () => {
    const token = mintCSRFToken(key, session);
    for (const binding of [null, {}, { kind: 'session', id: '' }, { kind: 'admin', id: 'sess-1' }, { kind: 'session', id: 1 }]) {
      expect(verifyCSRFToken(key, token, binding as unknown as CSRFBinding)).toBe(false);
    }
  });

  it('refuses to mint for an empty id or unknown kind', () => {
    expect(() => mintCSRFToken(key, { kind: 'session', id: '' })).toThrow(TypeError);
    expect(() => mintCSRFToken(key, { kind: 'user', id: 'x' } as unknown as CSRFBinding)).toThrow(TypeError);
  });
});

describe('csrfTokensEqual', () => {
  const token = mintCSRFToken(key, session);

  it('is true for identical non-empty strings', () => {
    expect(csrfTokensEqual(token, `${token}`)).toBe(true);
  });

  it('is false for different or differently long strings', () => {
    expect(csrfTokensEqual(token, flip(token, 5))).toBe(false);
    expect(csrfTokensEqual(token, token.slice(0, -1))).toBe(false);
    expect(csrfTokensEqual('é', 'e\u0301')).toBe(false);
  });

  it('is false when either side is missing or empty, including both', () => {
    for (const [a, b] of [[undefined, undefined], [null, null], ['', ''], [token, undefined], [null, token], ['', token]] as const) {
      expect(csrfTokensEqual(a, b)).toBe(false);
    }
  });

  it('refuses absurdly long inputs', () => {
    const long = 'a'.repeat(10_000);
    expect(csrfTokensEqual(long, long)).toBe(false);
  });
});
