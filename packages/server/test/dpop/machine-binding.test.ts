/**
 * DPoP for machine clients (client credentials), driven by openid-client: a
 * token request with a proof yields a machine token bound to the key, which
 * a route with `requireScope` admits only as `Authorization: DPoP` with a
 * proof of that key; stolen, it is worthless.
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOAuthServer, type OAuthTestServer } from '../oauth/oauth-server.js';
import { generateKeyPair, generateProof } from './support.js';

let server: OAuthTestServer;
let machine: oidc.Configuration;

beforeAll(async () => {
  server = await startOAuthServer();
  const secret = (await server.addClient({ id: 'reports-job', type: 'machine', scopes: ['reports:read'] })) ?? '';
  machine = await oidc.discovery(new URL(server.origin), 'reports-job', undefined, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' });
});
afterAll(async () => {
  await server?.close();
});

const reportsURL = () => new URL(`${server.origin}/api/reports`);

async function call(headers: Record<string, string>): Promise<{ status: number; code?: string; client?: string }> {
  const response = await fetch(reportsURL(), { headers });
  const body = (await response.json()) as { client?: string; error?: { code: string } };
  return { status: response.status, ...(body.error === undefined ? {} : { code: body.error.code }), ...(body.client === undefined ? {} : { client: body.client }) };
}

describe('a machine token bound to a DPoP key', () => {
  it('is issued as token_type DPoP with cnf.jkt, and the scope route admits it with proofs', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(machine, keys);
    const tokens = await oidc.clientCredentialsGrant(machine, { scope: 'reports:read' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keys.publicKey)) });
    const response = await oidc.fetchProtectedResource(machine, tokens.access_token, reportsURL(), 'GET', undefined, undefined, { DPoP });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ client: 'reports-job' });
  });

  it('stolen, it is worthless: as Bearer (DPOP_TOKEN_WITHOUT_PROOF) or with the thief\'s proof (DPOP_KEY_MISMATCH)', async () => {
    const DPoP = oidc.getDPoPHandle(machine, await oidc.randomDPoPKeyPair('ES256'));
    const { access_token: token } = await oidc.clientCredentialsGrant(machine, { scope: 'reports:read' }, { DPoP });
    expect(await call({ authorization: `Bearer ${token}` })).toEqual({ status: 401, code: 'DPOP_TOKEN_WITHOUT_PROOF' });
    const thief = await generateKeyPair('ES256');
    expect(await call({ authorization: `DPoP ${token}`, dpop: await generateProof(thief, reportsURL().href, 'GET', undefined, token) })).toEqual({ status: 401, code: 'DPOP_KEY_MISMATCH' });
    expect(await call({ authorization: `DPoP ${token}` })).toEqual({ status: 401, code: 'DPOP_PROOF_MISSING' });
  });

  it('an unbound machine token sent as DPoP is refused (DPOP_TOKEN_NOT_BOUND); as Bearer it works', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(machine, { scope: 'reports:read' });
    const keys = await generateKeyPair('ES256');
    expect(await call({ authorization: `DPoP ${token}`, dpop: await generateProof(keys, reportsURL().href, 'GET', undefined, token) })).toEqual({ status: 401, code: 'DPOP_TOKEN_NOT_BOUND' });
    expect(await call({ authorization: `Bearer ${token}` })).toEqual({ status: 200, client: 'reports-job' });
  });
});

describe('a machine token whose cnf is not a plain jkt', () => {
  it.each([
    ['another kind of binding (mTLS)', { 'x5t#S256': 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }],
    ['jkt beside another member', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', other: 1 }],
    ['a string', 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'],
    ['null', null],
  ])('is refused, never read as unbound: %s', async (_name, cnf) => {
    const { ClientTokenService } = await import('../../src/oauth/client-token.js');
    const { deriveKeyRing } = await import('../../src/core/keys.js');
    const { SignJWT } = await import('jose');
    const { TEST_SECRET } = await import('../support/test-server.js');
    const { config } = server.gatehouse;
    const service = new ClientTokenService(null, deriveKeyRing(TEST_SECRET).clientToken, {
      issuer: config.accessToken.issuer,
      audience: config.oauth.clientTokenAudience,
      ttlSeconds: config.oauth.clientTokenTtlSeconds,
      clockToleranceSeconds: config.accessToken.clockToleranceSeconds,
    }, server.clock);
    const iat = Math.floor(server.clock.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ client_id: 'reports-job', scope: 'reports:read', ...claims })
        .setProtectedHeader({ alg: 'HS256', typ: 'gatehouse-client+jwt' })
        .setIssuer(config.accessToken.issuer)
        .setAudience(config.oauth.clientTokenAudience)
        .setSubject('reports-job')
        .setJti(`j-${Math.random()}`)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(deriveKeyRing(TEST_SECRET).clientToken);
    // The forge is sound: the same token without cnf verifies.
    expect(await service.check(await sign({}))).toMatchObject({ ok: true, claims: { jkt: null } });
    expect(await service.check(await sign({ cnf }))).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });
});
