import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ACCESS_TOKEN_MAX_LENGTH,
  AccessTokenService,
  type AccessTokenOptions,
} from '../../src/core/access-token.js';
import { ManualClock } from '../../src/core/clock.js';
import { mintCSRFToken } from '../../src/core/csrf.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { pinnedHeader, type AccessTokenKeys, type TokenVerifier } from '../../src/core/token-keys.js';
import { generateRefreshToken } from '../../src/core/refresh-token.js';

const SECRET = 'k7#Qv9!pL2@xR5$wN8^zT1&mB4*cH6(d';
const keys = deriveKeyRing(SECRET);
const RAW_KEY = keys.accessToken.export();
const OPTIONS: AccessTokenOptions = {
  issuer: 'https://auth.example.test',
  audience: 'https://api.example.test',
  ttlSeconds: 300,
  clockToleranceSeconds: 30,
};
const START = Date.parse('2026-01-01T00:00:00Z');
const SUBJECT = { userId: 'user-1', username: 'alice', roles: ['user'], sessionId: 'sess-1' } as const;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string | undefined): unknown => JSON.parse(Buffer.from(part ?? '', 'base64url').toString());

/** Builds a JWS by hand, signing with HMAC(`hash`, `key`) or leaving the signature as given. */
function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: { key: Uint8Array; hash?: 'sha256' | 'sha384' | 'sha512' } | { signature: string },
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature =
    'signature' in sign ? sign.signature : createHmac(sign.hash ?? 'sha256', sign.key).update(input).digest('base64url');
  return `${input}.${signature}`;
}

const GOOD_HEADER = { alg: 'HS256', typ: 'at+jwt' };

function payloadAt(nowMs: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: OPTIONS.issuer,
    aud: OPTIONS.audience,
    sub: 'user-1',
    sid: 'sess-1',
    jti: 'jti-1',
    iat,
    exp: iat + OPTIONS.ttlSeconds,
    roles: ['user'],
    preferred_username: 'alice',
    ...overrides,
  };
}

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

let clock: ManualClock;
let service: AccessTokenService;

beforeEach(() => {
  clock = new ManualClock(START);
  service = new AccessTokenService(keys.accessToken, OPTIONS, clock);
});

const INVALID = { ok: false, code: 'TOKEN_INVALID' };

describe('AccessTokenService: issue and verify', () => {
  it('round-trips the claims with the RFC 9068 header', async () => {
    const { token, claims } = await service.issue(SUBJECT);
    const [header, payload] = token.split('.');
    expect(decode(header)).toStrictEqual({ alg: 'HS256', typ: 'at+jwt' });
    expect(decode(payload)).toMatchObject({ preferred_username: 'alice', sid: 'sess-1', sub: 'user-1' });
    expect(claims).toMatchObject({
      iss: OPTIONS.issuer,
      aud: OPTIONS.audience,
      sub: 'user-1',
      sid: 'sess-1',
      username: 'alice',
      roles: ['user'],
    });
    expect(claims.iat).toBe(START / 1000);
    expect(claims.exp).toBe(START / 1000 + 300);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await expect(service.verify(token)).resolves.toStrictEqual({ ok: true, claims });
  });

  it('gives every token a fresh jti', async () => {
    const a = await service.issue(SUBJECT);
    const b = await service.issue(SUBJECT);
    expect(a.claims.jti).not.toBe(b.claims.jti);
    expect(a.token).not.toBe(b.token);
  });

  it('accepts a hand-built token signed with the right key (the forgery helper is sound)', async () => {
    const result = await service.verify(forge(GOOD_HEADER, payloadAt(START), { key: RAW_KEY }));
    expect(result.ok).toBe(true);
  });

  it('returns only the known claims, as plain data', async () => {
    const token = forge(GOOD_HEADER, payloadAt(START, { admin: true, scope: 'all' }), { key: RAW_KEY });
    const result = await service.verify(token);
    expect(result.ok && Object.keys(result.claims).sort()).toStrictEqual(
      ['aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub', 'userVersion', 'username'],
    );
  });

  it('carries the user version it was issued for as uv, and reads it back', async () => {
    const { token, claims } = await service.issue({ ...SUBJECT, userVersion: 7 });
    expect(decode(token.split('.')[1])).toMatchObject({ uv: 7 });
    expect(claims.userVersion).toBe(7);
    const result = await service.verify(token);
    expect(result.ok && result.claims.userVersion).toBe(7);
  });

  it('reads a token without uv (minted before user versions) as version -1, older than any change', async () => {
    const result = await service.verify(forge(GOOD_HEADER, payloadAt(START), { key: RAW_KEY }));
    expect(result.ok && result.claims.userVersion).toBe(-1);
  });

  it.each([-1, 1.5, '3', null, 2 ** 53])('refuses a correctly signed token whose uv is %j', async (uv) => {
    await expect(service.verify(forge(GOOD_HEADER, payloadAt(START, { uv }), { key: RAW_KEY }))).resolves.toStrictEqual(INVALID);
  });

  it('refuses to issue for a user version that is not a whole number, zero or more', async () => {
    await expect(service.issue({ ...SUBJECT, userVersion: -1 })).rejects.toThrow(TypeError);
  });

  it('refuses to issue a token verify would reject as too long', async () => {
    const roles = Array.from({ length: 400 }, (_, i) => `role-number-${i}`);
    await expect(service.issue({ ...SUBJECT, roles })).rejects.toThrow(TypeError);
  });

  it('rejects bad constructor input', () => {
    expect(() => new AccessTokenService(createSecretKey(randomBytes(16)), OPTIONS, clock)).toThrow(TypeError);
    expect(() => new AccessTokenService(keys.accessToken, { ...OPTIONS, ttlSeconds: 0 }, clock)).toThrow(TypeError);
    expect(() => new AccessTokenService(keys.accessToken, { ...OPTIONS, issuer: '' }, clock)).toThrow(TypeError);
    expect(() => new AccessTokenService(keys.accessToken, { ...OPTIONS, clockToleranceSeconds: -1 }, clock)).toThrow(TypeError);
  });
});

describe('AccessTokenService: expiry', () => {
  it('is TOKEN_EXPIRED once past exp + tolerance', async () => {
    const { token } = await service.issue(SUBJECT);
    clock.advance((300 + 30) * 1000);
    await expect(service.verify(token)).resolves.toStrictEqual({ ok: false, code: 'TOKEN_EXPIRED' });
  });

  it('still accepts inside the tolerance', async () => {
    const { token } = await service.issue(SUBJECT);
    clock.advance((300 + 29) * 1000);
    expect((await service.verify(token)).ok).toBe(true);
  });

  it('is TOKEN_INVALID, not EXPIRED, when an expired token also has a bad signature', async () => {
    const { token } = await service.issue(SUBJECT);
    const [h, p] = token.split('.');
    clock.advance(3600 * 1000);
    const other = createHmac('sha256', randomBytes(32)).update(`${h}.${p}`).digest('base64url');
    await expect(service.verify(`${h}.${p}.${other}`)).resolves.toStrictEqual(INVALID);
  });

  it('is TOKEN_INVALID, not EXPIRED, when an expired token also has a foreign issuer', async () => {
    const token = forge(GOOD_HEADER, payloadAt(START, { iss: 'https://evil.test' }), { key: RAW_KEY });
    clock.advance(3600 * 1000);
    await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
  });

  it('rejects nbf in the future', async () => {
    const nbf = START / 1000 + 120;
    const token = forge(GOOD_HEADER, payloadAt(START, { nbf }), { key: RAW_KEY });
    await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
  });

  it('rejects iat in the future', async () => {
    const token = forge(GOOD_HEADER, payloadAt(START + 600_000), { key: RAW_KEY });
    await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
  });
});

describe('AccessTokenService: JWT attacks', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg %s with an empty signature', async (alg) => {
    const payload = payloadAt(START, { roles: ['admin'] });
    await expect(service.verify(forge({ alg, typ: 'at+jwt' }, payload, { signature: '' }))).resolves.toStrictEqual(INVALID);
    await expect(service.verify(forge({ alg }, payload, { signature: '' }))).resolves.toStrictEqual(INVALID);
  });

  it('rejects alg none even when a real signature is attached', async () => {
    const { token } = await service.issue(SUBJECT);
    const [, p, s] = token.split('.');
    await expect(service.verify(`${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.${s}`)).resolves.toStrictEqual(INVALID);
  });

  it.each(['sha384', 'sha512'] as const)('rejects HMAC-%s with the same key (algorithm pinned)', async (hash) => {
    const alg = hash === 'sha384' ? 'HS384' : 'HS512';
    const manual = forge({ alg, typ: 'at+jwt' }, payloadAt(START), { key: RAW_KEY, hash });
    await expect(service.verify(manual)).resolves.toStrictEqual(INVALID);
    const viaJose = await new SignJWT(payloadAt(START)).setProtectedHeader({ alg, typ: 'at+jwt' }).sign(RAW_KEY);
    await expect(service.verify(viaJose)).resolves.toStrictEqual(INVALID);
  });

  it('rejects an RS256 token, and one with an embedded attacker jwk', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const plain = await new SignJWT(payloadAt(START)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(privateKey);
    await expect(service.verify(plain)).resolves.toStrictEqual(INVALID);
    const jwk = await exportJWK(publicKey);
    const embedded = await new SignJWT(payloadAt(START))
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk })
      .sign(privateKey);
    await expect(service.verify(embedded)).resolves.toStrictEqual(INVALID);
  });

  it('rejects HS256 tokens whose header points at attacker key material', async () => {
    const attacker = randomBytes(32);
    const k = attacker.toString('base64url');
    const headers: Record<string, unknown>[] = [
      { ...GOOD_HEADER, jwk: { kty: 'oct', k } },
      { ...GOOD_HEADER, jku: 'https://evil.test/jwks.json' },
      { ...GOOD_HEADER, x5u: 'https://evil.test/cert.pem' },
      { ...GOOD_HEADER, x5c: ['MIIBszCCAVmgAwIBAgIU'] },
      { ...GOOD_HEADER, kid: '../../../../dev/null' },
      { ...GOOD_HEADER, kid: "x' UNION SELECT 'attacker-key" },
    ];
    for (const header of headers) {
      await expect(service.verify(forge(header, payloadAt(START), { key: attacker }))).resolves.toStrictEqual(INVALID);
    }
    // kid pointing at an empty file: the attacker signs with an empty key.
    const empty = forge({ ...GOOD_HEADER, kid: '/dev/null' }, payloadAt(START), { key: new Uint8Array(0) });
    await expect(service.verify(empty)).resolves.toStrictEqual(INVALID);
  });

  it('rejects extra header parameters and crit even when signed with the real key', async () => {
    for (const header of [
      { ...GOOD_HEADER, kid: 'anything' },
      { ...GOOD_HEADER, crit: ['exp'], exp: 1 },
      { ...GOOD_HEADER, b64: false, crit: ['b64'] },
      { typ: 'at+jwt', alg: 'HS256' }, // same parameters, different bytes
    ]) {
      await expect(service.verify(forge(header, payloadAt(START), { key: RAW_KEY }))).resolves.toStrictEqual(INVALID);
    }
  });

  it('rejects a tampered payload (roles raised to admin)', async () => {
    const { token } = await service.issue(SUBJECT);
    const [h, p, s] = token.split('.');
    const claims = decode(p) as Record<string, unknown>;
    const tampered = b64({ ...claims, roles: ['admin'] });
    await expect(service.verify(`${h}.${tampered}.${s}`)).resolves.toStrictEqual(INVALID);
  });

  it('rejects a tampered header and a tampered signature', async () => {
    const { token } = await service.issue(SUBJECT);
    const [, p, s = ''] = token.split('.');
    await expect(service.verify(`${b64({ alg: 'HS256', typ: 'at+JWT' })}.${p}.${s}`)).resolves.toStrictEqual(INVALID);
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    await expect(service.verify(token.replace(s, flipped))).resolves.toStrictEqual(INVALID);
  });

  it.each([
    ['JWT', { alg: 'HS256', typ: 'JWT' }],
    ['missing', { alg: 'HS256' }],
    ['rt+jwt', { alg: 'HS256', typ: 'rt+jwt' }],
  ])('rejects typ %s even when correctly signed', async (_name, header) => {
    await expect(service.verify(forge(header, payloadAt(START), { key: RAW_KEY }))).resolves.toStrictEqual(INVALID);
  });

  it.each([
    ['a foreign iss', { iss: 'https://evil.test' }],
    ['a foreign aud', { aud: 'https://other-api.test' }],
    ['aud as an array', { aud: [OPTIONS.audience, 'https://other-api.test'] }],
    ['roles as a string', { roles: 'admin' }],
    ['roles with a non-string', { roles: ['user', 1] }],
    ['a numeric preferred_username', { preferred_username: 42 }],
    ['an empty sub', { sub: '' }],
    ['exp not after iat', { exp: START / 1000 }],
    ['a string exp', { exp: String(START / 1000 + 300) }],
  ])('rejects %s even when correctly signed', async (_name, overrides) => {
    await expect(service.verify(forge(GOOD_HEADER, payloadAt(START, overrides), { key: RAW_KEY }))).resolves.toStrictEqual(INVALID);
  });

  it.each(['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp', 'roles', 'preferred_username'])(
    'rejects a correctly signed token without %s',
    async (claim) => {
      const token = forge(GOOD_HEADER, without(payloadAt(START), claim), { key: RAW_KEY });
      await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
    },
  );

  it('rejects a token signed with a different secret', async () => {
    const other = new AccessTokenService(deriveKeyRing(`${SECRET}-other`).accessToken, OPTIONS, clock);
    const { token } = await other.issue(SUBJECT);
    await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
  });

  it('rejects a token signed with another subkey of the same secret', async () => {
    const csrfKeyed = new AccessTokenService(keys.csrf, OPTIONS, clock);
    const { token } = await csrfKeyed.issue(SUBJECT);
    await expect(service.verify(token)).resolves.toStrictEqual(INVALID);
  });

  it('rejects refresh tokens and CSRF tokens presented as access tokens', async () => {
    await expect(service.verify(generateRefreshToken())).resolves.toStrictEqual(INVALID);
    const csrf = mintCSRFToken(keys.csrf, { kind: 'session', id: 'sess-1' });
    await expect(service.verify(csrf)).resolves.toStrictEqual(INVALID);
  });

  it('rejects over-long tokens before verifying them', async () => {
    const near = forge(GOOD_HEADER, payloadAt(START, { pad: 'x'.repeat(2600) }), { key: RAW_KEY });
    expect(near.length).toBeLessThanOrEqual(ACCESS_TOKEN_MAX_LENGTH);
    expect((await service.verify(near)).ok).toBe(true);
    const over = forge(GOOD_HEADER, payloadAt(START, { pad: 'x'.repeat(3000) }), { key: RAW_KEY });
    expect(over.length).toBeGreaterThan(ACCESS_TOKEN_MAX_LENGTH);
    await expect(service.verify(over)).resolves.toStrictEqual(INVALID);
  });

  it('never throws on garbage', async () => {
    const { token } = await service.issue(SUBJECT);
    const garbage: unknown[] = [
      '', 'abc', 'a.b', 'a.b.c', 'a.b.c.d', `${token}.`, `.${token}`, ` ${token}`, `Bearer ${token}`,
      token.replace(/\./g, '..'), `${token.split('.').slice(0, 2).join('.')}.`, 'a.b.c.d.e',
      `${b64(GOOD_HEADER)}.!!!.${'A'.repeat(43)}`, `${b64(GOOD_HEADER)}.${b64('str')}.${'A'.repeat(43)}`,
      `${b64(GOOD_HEADER)}.e30.${'A'.repeat(43)}`, undefined, null, 42, {},
    ];
    for (const value of garbage) {
      await expect(service.verify(value as string)).resolves.toStrictEqual(INVALID);
    }
    for (let i = 0; i < 200; i++) {
      const random = randomBytes(1 + (i % 90)).toString(i % 2 ? 'base64url' : 'latin1');
      await expect(service.verify(random)).resolves.toStrictEqual(INVALID);
    }
  });
});

/** The other base64url spellings of a token's signature: same bytes, different unused low bits in the last character. */
function otherSpellings(token: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const signature = token.slice(token.lastIndexOf('.') + 1);
  const unusedBits = (signature.length * 6) % 8;
  const last = alphabet.indexOf(signature.at(-1)!);
  const spellings: string[] = [];
  for (let low = 0; low < 1 << unusedBits; low++) {
    const char = alphabet[(last & ~((1 << unusedBits) - 1)) | low]!;
    if (char !== signature.at(-1)) spellings.push(`${token.slice(0, -1)}${char}`);
  }
  return spellings;
}

/** A one-key Ed25519 source, as `SigningKeySet` would provide it. */
async function ed25519Keys(): Promise<AccessTokenKeys> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const { header, encoded } = pinnedHeader('EdDSA', 'k1');
  const verifier: TokenVerifier = { alg: 'EdDSA', encodedHeader: encoded, key: publicKey };
  return {
    signer: () => ({ header, key: privateKey }),
    verifierFor: (text) => (text === encoded ? verifier : undefined),
    trusts: (candidate) => candidate === verifier,
  };
}

describe('AccessTokenService: one spelling per token', () => {
  it('HS256: refuses the 3 other spellings of a genuine signature, before and after the genuine one is cached', async () => {
    const { token } = await service.issue(SUBJECT);
    const others = otherSpellings(token);
    expect(others).toHaveLength(3);
    for (const spelling of others) expect(await service.verify(spelling)).toStrictEqual(INVALID);
    expect((await service.verify(token)).ok).toBe(true);
    for (const spelling of others) expect(await service.verify(spelling)).toStrictEqual(INVALID);
  });

  it('EdDSA: refuses the 15 other spellings of a genuine signature', async () => {
    const ed = new AccessTokenService(await ed25519Keys(), OPTIONS, clock);
    const { token } = await ed.issue(SUBJECT);
    const others = otherSpellings(token);
    expect(others).toHaveLength(15);
    expect((await ed.verify(token)).ok).toBe(true);
    for (const spelling of others) expect(await ed.verify(spelling)).toStrictEqual(INVALID);
  });
});

describe('AccessTokenService: lifetime', () => {
  it('accepts a correctly signed token living exactly the configured lifetime plus leeway, and refuses one a second longer', async () => {
    const iat = START / 1000 - 100;
    const longest = forge(GOOD_HEADER, payloadAt(START, { iat, exp: iat + 300 + 30 }), { key: RAW_KEY });
    expect((await service.verify(longest)).ok).toBe(true);
    const tooLong = forge(GOOD_HEADER, payloadAt(START, { iat, exp: iat + 300 + 30 + 1 }), { key: RAW_KEY });
    expect(await service.verify(tooLong)).toStrictEqual(INVALID);
  });

  it.each([1e308, Number.MAX_VALUE, 2 ** 53, 1.5e12])('refuses a correctly signed token with exp %s (never throws)', async (exp) => {
    const token = forge(GOOD_HEADER, payloadAt(START, { exp }), { key: RAW_KEY });
    expect(await service.verify(token)).toStrictEqual(INVALID);
  });

  it('refuses non-integer and negative times', async () => {
    for (const overrides of [{ iat: START / 1000 + 0.5 }, { exp: START / 1000 + 60.5 }, { iat: -1, exp: 60 }]) {
      expect(await service.verify(forge(GOOD_HEADER, payloadAt(START, overrides), { key: RAW_KEY }))).toStrictEqual(INVALID);
    }
  });
});

describe('AccessTokenService: verified-token cache', () => {
  it('still expires a token that was verified (and cached) while fresh', async () => {
    const { token } = await service.issue(SUBJECT);
    expect((await service.verify(token)).ok).toBe(true);
    clock.advance((300 + 30) * 1000);
    await expect(service.verify(token)).resolves.toStrictEqual({ ok: false, code: 'TOKEN_EXPIRED' });
  });

  it('never answers a tampered copy of a cached token from the cache', async () => {
    const { token } = await service.issue(SUBJECT);
    expect((await service.verify(token)).ok).toBe(true);
    const [h, p, s = ''] = token.split('.');
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    await expect(service.verify(flipped)).resolves.toStrictEqual(INVALID);
  });

  it('remembers at most maxEntries tokens, forgetting the oldest first', async () => {
    const small = new AccessTokenService(keys.accessToken, OPTIONS, clock, { maxEntries: 3 });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((n) => small.issue({ ...SUBJECT, sessionId: `sess-${n}` })));
    for (const { token } of tokens) expect((await small.verify(token)).ok).toBe(true);
    expect(small.cachedTokens).toBe(3);
  });

  it('keeps working past its bound, re-verifying what it evicted', async () => {
    const small = new AccessTokenService(keys.accessToken, OPTIONS, clock, { maxEntries: 2 });
    const tokens = await Promise.all([1, 2, 3].map((n) => small.issue({ ...SUBJECT, sessionId: `sess-${n}` })));
    for (const { token } of tokens) expect((await small.verify(token)).ok).toBe(true);
    for (const { token, claims } of tokens) {
      const result = await small.verify(token);
      expect(result.ok && result.claims.sid).toBe(claims.sid);
    }
  });
});

describe('AccessTokenService: notAfter', () => {
  it('never lets a token outlive the session it belongs to', async () => {
    const notAfter = START + 60_000;
    const { claims } = await service.issue({ ...SUBJECT, notAfter });
    expect(claims.exp).toBe(Math.floor(notAfter / 1000));
    const { claims: uncapped } = await service.issue({ ...SUBJECT, notAfter: START + 3_600_000 });
    expect(uncapped.exp).toBe(uncapped.iat + OPTIONS.ttlSeconds);
  });
});
