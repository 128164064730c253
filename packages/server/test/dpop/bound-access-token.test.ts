/**
 * Access tokens bound to a DPoP key (RFC 9449 §6.1): `cnf.jkt` is issued,
 * read back, and never ignored when it is not what Gatehouse issues.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessTokenService, hs256Keys } from '../../src/core/access-token.js';
import { ManualClock } from '../../src/core/clock.js';

const key = createSecretKey(randomBytes(32));
const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
const options = { issuer: 'https://auth.example.test', audience: 'https://api.example.test', ttlSeconds: 300, clockToleranceSeconds: 5 };
const service = new AccessTokenService(key, options, clock);
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'; // RFC 7638 §3.1's example thumbprint
const subject = { userId: 'u1', username: 'alice', roles: ['user'], sessionId: 's1' };

/** A token signed with the service's own key and pinned header, carrying `cnf` as given. */
async function withCnf(cnf: unknown): Promise<string> {
  const signer = hs256Keys(key).signer();
  const iat = Math.floor(clock.now() / 1000);
  return new SignJWT({ sid: 's1', roles: ['user'], preferred_username: 'alice', cnf: cnf as Record<string, unknown> })
    .setProtectedHeader(signer.header)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject('u1')
    .setJti('j1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(await signer.key);
}

describe('access tokens bound to a DPoP key', () => {
  it('carry cnf.jkt when issued with jkt, and verify with it', async () => {
    const { token, claims } = await service.issue({ ...subject, jkt: JKT });
    expect(claims.cnf).toEqual({ jkt: JKT });
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { cnf?: unknown };
    expect(payload.cnf).toEqual({ jkt: JKT });
    expect(await service.verify(token)).toMatchObject({ ok: true, claims: { cnf: { jkt: JKT } } });
  });

  it('carry no cnf otherwise', async () => {
    const { token } = await service.issue(subject);
    const result = await service.verify(token);
    expect(result.ok && result.claims.cnf).toBeUndefined();
  });

  it('refuses to issue with something that is not a SHA-256 thumbprint', async () => {
    await expect(service.issue({ ...subject, jkt: 'short' })).rejects.toThrow(TypeError);
  });

  it.each([
    ['a thumbprint of the wrong length', { jkt: 'abc' }],
    ['another kind of binding (mTLS)', { 'x5t#S256': JKT }],
    ['jkt beside another member', { jkt: JKT, 'x5t#S256': JKT }],
    ['a string', JKT],
    ['an array', [JKT]],
    ['null', null],
  ])('a signed token whose cnf is %s is refused, never read as unbound', async (_name, cnf) => {
    expect(await service.verify(await withCnf(cnf))).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });

  it('a signed token whose cnf is a valid jkt verifies (the forge helper is sound)', async () => {
    expect(await service.verify(await withCnf({ jkt: JKT }))).toMatchObject({ ok: true, claims: { cnf: { jkt: JKT } } });
  });
});
