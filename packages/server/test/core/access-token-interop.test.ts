/**
 * Access tokens are signed by fast-jwt; an independent library (jose) must
 * accept them as RFC 9068 tokens under the published keys, for every
 * algorithm Gatehouse signs with, and Gatehouse must keep accepting the
 * header spelling earlier versions wrote (jose signed them then).
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessTokenService } from '../../src/core/access-token.js';
import { ManualClock } from '../../src/core/clock.js';
import { decryptPrivateKey } from '../../src/core/key-encryption.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { generateSigningKey, SigningKeySet } from '../../src/core/signing-keys.js';
import { openSQLiteStore, type SQLiteStore } from '../../src/store/sqlite/sqlite-store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ENCRYPTION_KEY = createSecretKey(randomBytes(32));
const OPTIONS = { issuer: 'https://auth.example', audience: 'https://api.example', ttlSeconds: 300, clockToleranceSeconds: 5 };
const SUBJECT = { userId: 'u1', username: 'alice', roles: ['user', 'admin'], sessionId: 's1', jkt: 'A'.repeat(43) };
const JOSE_CHECKS = { issuer: OPTIONS.issuer, audience: OPTIONS.audience, typ: 'at+jwt', currentDate: new Date(T0) };

describe('jose verifies the access tokens Gatehouse signs', () => {
  let store: SQLiteStore;
  let clock: ManualClock;
  beforeEach(() => {
    store = openSQLiteStore({ path: ':memory:' });
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    await store.close();
  });

  /** A key set holding one fresh key of `alg`, and that key's record. */
  const keySetWith = async (alg: 'EdDSA' | 'ES256' | 'RS256') => {
    const record = await store.insertSigningKey(await generateSigningKey(alg, ENCRYPTION_KEY, { now: T0, activatesAt: T0 }));
    const keySet = new SigningKeySet(store, ENCRYPTION_KEY, clock, { retainMs: 600_000 });
    await keySet.sync();
    return { keySet, record };
  };

  it('HS256, with the access-token subkey of the secret', async () => {
    const key = deriveKeyRing('k7#Qv9!pL2@xR5$wN8^zT1&mB4*cH6(d').accessToken;
    const { token, claims } = await new AccessTokenService(key, OPTIONS, clock).issue(SUBJECT);
    const { payload, protectedHeader } = await jwtVerify(token, key.export(), { ...JOSE_CHECKS, algorithms: ['HS256'] });
    expect(protectedHeader).toStrictEqual({ alg: 'HS256', typ: 'at+jwt' });
    expect(payload).toStrictEqual({
      iss: claims.iss, aud: claims.aud, sub: 'u1', sid: 's1', jti: claims.jti, iat: claims.iat, exp: claims.exp,
      roles: ['user', 'admin'], preferred_username: 'alice', uv: 0, cnf: { jkt: SUBJECT.jkt },
    });
  });

  it.each(['EdDSA', 'ES256', 'RS256'] as const)('%s, with the published JWK Set', async (alg) => {
    const { keySet, record } = await keySetWith(alg);
    const { token, claims } = await new AccessTokenService(keySet, OPTIONS, clock).issue(SUBJECT);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [...keySet.jwks().keys] }), { ...JOSE_CHECKS, algorithms: [alg] });
    expect(protectedHeader).toStrictEqual({ alg, typ: 'at+jwt', kid: record.kid });
    expect(payload).toMatchObject({ sub: 'u1', sid: 's1', jti: claims.jti, iat: claims.iat, exp: claims.exp, roles: ['user', 'admin'], cnf: { jkt: SUBJECT.jkt } });
  });

  it.each(['EdDSA', 'ES256', 'RS256'] as const)('%s: still accepts a token with the header order earlier versions wrote (kid before typ)', async (alg) => {
    const { keySet, record } = await keySetWith(alg);
    const privateJwk = JSON.parse(decryptPrivateKey(record.encryptedPrivateKey, ENCRYPTION_KEY, `${record.kid}|${alg}`) ?? 'null') as JWK;
    const iat = T0 / 1000;
    const legacy = await new SignJWT({ sid: 's1', roles: ['user'], preferred_username: 'alice' })
      .setProtectedHeader({ alg, kid: record.kid, typ: 'at+jwt' })
      .setIssuer(OPTIONS.issuer)
      .setAudience(OPTIONS.audience)
      .setSubject('u1')
      .setJti('legacy-jti')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .sign(await importJWK(privateJwk, alg));
    expect(Object.keys(decodeProtectedHeader(legacy))).toEqual(['alg', 'kid', 'typ']);
    expect(await new AccessTokenService(keySet, OPTIONS, clock).verify(legacy)).toMatchObject({ ok: true, claims: { jti: 'legacy-jti' } });
  });
});
