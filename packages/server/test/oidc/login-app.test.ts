/**
 * The separate login app: a page on another origin holds a short-lived JWT
 * from a trusted issuer (its keys served as a JWKS over loopback) and trades
 * it for this product's cookie session at `POST /auth/login-app/<id>`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse } from '../../src/gatehouse.js';
import { startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

const ISSUER = 'https://login.example.test';
const LOGIN_ORIGIN = 'http://localhost:5999';

let server: OIDCTestServer;
let jwksServer: Server;
let signingKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'login-1', alg: 'ES256', use: 'sig' }] });
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  server = await startOIDCServer({
    config: {
      oidc: {
        loginApps: [
          { id: 'portal', issuer: ISSUER, jwksUrl, allowedOrigins: [LOGIN_ORIGIN], subject: 'username' },
          { id: 'partner', issuer: ISSUER, jwksUrl, allowedOrigins: [LOGIN_ORIGIN], audience: 'partner-api' },
        ],
      },
    },
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => jwksServer?.close(() => resolve()));
});

async function token(claims: JWTPayload = {}, options: { lifetimeSeconds?: number; key?: CryptoKey | Uint8Array; alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { iss: ISSUER, aud: server.origin, sub: 'alice', jti: randomUUID(), iat: now, exp: now + (options.lifetimeSeconds ?? 30), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'ES256', kid: 'login-1' }).sign(options.key ?? signingKey);
}

function exchange(jwt: string, options: { origin?: string | null; app?: string } = {}) {
  const origin = options.origin === undefined ? LOGIN_ORIGIN : options.origin;
  return server.browser({ origin }).post(`/auth/login-app/${options.app ?? 'portal'}`, { json: { token: jwt } });
}

describe('POST /auth/login-app/:id', () => {
  it('turns a valid token from an allowed page into a cookie session, with CORS for that page', async () => {
    const response = await exchange(await token());
    expect(response.status).toBe(200);
    expect(response.body.user.username).toBe('alice');
    expect(response.headers.get('access-control-allow-origin')).toBe(LOGIN_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toContain('Origin');
    const names = response.setCookies.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['__Host-gh_access', '__Secure-gh_refresh', 'XSRF-TOKEN']));
    const product = server.browser();
    for (const c of response.setCookies) product.jar.set(c.name, { value: c.value, path: c.attributes.get('path') ?? '/' });
    expect((await product.get('/auth/me')).body.user.username).toBe('alice');
  });

  it('answers the CORS preflight for the allowed page only', async () => {
    const allowed = await server.browser({ origin: LOGIN_ORIGIN }).request('OPTIONS', '/auth/login-app/portal', {
      headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(LOGIN_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');
    const other = await server.browser({ origin: 'https://evil.example' }).request('OPTIONS', '/auth/login-app/portal');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers CORS on this endpoint only: other /auth routes never name the login page', async () => {
    const me = await server.browser({ origin: LOGIN_ORIGIN }).get('/auth/me');
    expect(me.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await server.browser({ origin: LOGIN_ORIGIN }).request('OPTIONS', '/auth/login');
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    ['another page', 'https://evil.example'],
    ['the product itself', 'PRODUCT'],
    ['no Origin at all', null],
  ])('refuses a caller from %s (403 ORIGIN_REJECTED), opening no session', async (_name, origin) => {
    const response = await exchange(await token(), { origin: origin === 'PRODUCT' ? server.origin : origin });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('ORIGIN_REJECTED');
    expect(response.setCookies).toEqual([]);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a replayed token (its jti is single use across instances)', async () => {
    const jwt = await token();
    expect((await exchange(jwt)).status).toBe(200);
    const replay = await exchange(jwt);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('TOKEN_REPLAYED');
    expect(replay.setCookies).toEqual([]);
    // The page can read why.
    expect(replay.headers.get('access-control-allow-origin')).toBe(LOGIN_ORIGIN);
  });

  it('refuses at a second instance sharing the store a token the first accepted, and accepts a fresh one there', async () => {
    const other = await createGatehouse({ config: server.gatehouse.config, clock: server.clock, logger: createLogger('silent') });
    const exchangeAtOther = async (jwt: string) => {
      const request = new Request(`${server.origin}/auth/login-app/portal`, {
        method: 'POST',
        headers: { origin: LOGIN_ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ token: jwt }),
      });
      const response = await other.handle(request, other.clientContext('127.0.0.1', request.headers));
      return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
    };
    try {
      const jwt = await token();
      expect((await exchange(jwt)).status).toBe(200);
      expect(await exchangeAtOther(jwt)).toMatchObject({ status: 401, body: { error: { code: 'TOKEN_REPLAYED' } } });
      expect((await exchangeAtOther(await token())).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['living longer than 60 s', () => token({}, { lifetimeSeconds: 61 })],
    ['expired', () => token({ iat: Math.floor(Date.now() / 1000) - 40, exp: Math.floor(Date.now() / 1000) - 10 })],
    ['for another audience', () => token({ aud: 'https://other.example' })],
    ['from another issuer', () => token({ iss: 'https://attacker.example' })],
    ['without jti', () => token({ jti: undefined })],
    ['signed with another key', async () => token({}, { key: (await generateKeyPair('ES256')).privateKey })],
    ['signed with a shared secret (HS256)', () => token({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) })],
  ])('refuses a token %s (401 LOGIN_APP_TOKEN_INVALID)', async (_name, build) => {
    const response = await exchange(await build());
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('LOGIN_APP_TOKEN_INVALID');
    expect(response.setCookies).toEqual([]);
  });

  it('with subject "linked", signs in only identities linked by (issuer, subject)', async () => {
    const response = await exchange(await token({ aud: 'partner-api', sub: 'partner-user-1' }), { app: 'partner' });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('OIDC_ACCOUNT_NOT_LINKED');
    const alice = await server.gatehouse.store.findUserByUsername('alice');
    await server.gatehouse.store.linkIdentity({ issuer: ISSUER, subject: 'partner-user-1', userId: alice?.id ?? '', providerId: 'partner', createdAt: Date.now() });
    const linked = await exchange(await token({ aud: 'partner-api', sub: 'partner-user-1' }), { app: 'partner' });
    expect(linked.status).toBe(200);
    expect(linked.body.user.username).toBe('alice');
  });

  it('refuses an unknown login app with 404', async () => {
    expect((await exchange(await token(), { app: 'nobody' })).status).toBe(404);
  });
});
