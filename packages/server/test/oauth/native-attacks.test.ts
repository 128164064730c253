/**
 * Attacks on the native-app flow, each refused for its own reason: PKCE
 * downgrade and a missing verifier, code replay (which also ends the session
 * the code opened), redirect URIs not exactly registered, another client's
 * code or refresh token, login CSRF on the sign-in page, grants that are not
 * offered. Errors are in the RFC 6749 §5.2 shape.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../support/raw-http.js';
import { ALICE, formPost, signIn, startOAuthServer, type OAuthTestServer } from './oauth-server.js';

let server: OAuthTestServer;
const REDIRECT = 'http://127.0.0.1/callback';

beforeAll(async () => {
  server = await startOAuthServer();
  await server.addClient({ id: 'app-a', type: 'native', redirectURIs: [REDIRECT, 'com.example.a:/cb'], scopes: ['profile'] });
  await server.addClient({ id: 'app-b', type: 'native', redirectURIs: [REDIRECT], scopes: ['profile'] });
});
afterAll(async () => {
  await server?.close();
});

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

function authorizeURL(params: Record<string, string>): string {
  const url = new URL('/oauth/authorize', server.origin);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'app-a', redirect_uri: REDIRECT, code_challenge_method: 'S256', state: 'st-1', ...params })) url.searchParams.set(k, v);
  return url.href;
}

/** A code for app-a (or `client`), and its verifier. */
async function codeFor(client = 'app-a', redirect = REDIRECT) {
  const { verifier, challenge } = pkce();
  const { location } = await signIn(server, authorizeURL({ client_id: client, redirect_uri: redirect, code_challenge: challenge }));
  const code = new URL(location ?? 'x:').searchParams.get('code');
  if (code === null) throw new Error(`no code: ${location}`);
  return { code, verifier };
}

const token = (fields: Record<string, string>) => formPost(`${server.origin}/oauth/token`, fields);
const redeem = (code: string, verifier: string, extra: Record<string, string> = {}) =>
  token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: 'app-a', ...extra });
const bearer = (accessToken: string) => fetch(`${server.origin}/api/private`, { headers: { authorization: `Bearer ${accessToken}` } });

async function expectOAuthError(response: Response, error: string, status = 400): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
}

describe('PKCE', () => {
  it('refuses a plain challenge (downgrade) before any sign-in page: redirected back with invalid_request', async () => {
    const response = await fetch(authorizeURL({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), { redirect: 'manual' });
    expect(response.status).toBe(303);
    const back = new URL(response.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'invalid_request', state: 'st-1', iss: server.origin });
  });

  it('refuses a request without a method (RFC 7636 would default to plain) or without a challenge', async () => {
    const url = new URL(authorizeURL({ code_challenge: pkce().challenge }));
    url.searchParams.delete('code_challenge_method');
    const noMethod = await fetch(url, { redirect: 'manual' });
    expect(new URL(noMethod.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
    const noChallenge = await fetch(authorizeURL({}), { redirect: 'manual' });
    expect(new URL(noChallenge.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses redemption without the verifier, and with another verifier', async () => {
    const { code, verifier } = await codeFor();
    const missing = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'app-a' });
    await expectOAuthError(missing, 'invalid_request');
    await expectOAuthError(await redeem(code, pkce().verifier), 'invalid_grant');
    // Neither spent the code: the app holding the verifier still redeems it.
    expect((await redeem(code, verifier)).status).toBe(200);
  });
});

describe('authorization codes', () => {
  it('are single use: a replay is invalid_grant and ends the session the first redemption opened', async () => {
    const { code, verifier } = await codeFor();
    const first = await redeem(code, verifier);
    expect(first.status).toBe(200);
    const { access_token: accessToken } = (await first.json()) as { access_token: string };
    expect((await bearer(accessToken)).status).toBe(200);
    await expectOAuthError(await redeem(code, verifier), 'invalid_grant');
    expect((await bearer(accessToken)).status).toBe(401);
  });

  it('are redeemed once when two redemptions race', async () => {
    const { code, verifier } = await codeFor();
    const answers = await Promise.all([redeem(code, verifier), redeem(code, verifier), redeem(code, verifier)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400]);
  });

  it('expire after oauth.codeTtlSeconds', async () => {
    const { code, verifier } = await codeFor();
    server.clock.advance(61_000);
    await expectOAuthError(await redeem(code, verifier), 'invalid_grant');
  });

  it('are bound to their client: app-b cannot redeem app-a\'s code', async () => {
    const { code, verifier } = await codeFor();
    await expectOAuthError(await redeem(code, verifier, { client_id: 'app-b' }), 'invalid_grant');
  });

  it('are bound to their redirect URI, and a tampered code is refused', async () => {
    const { code, verifier } = await codeFor();
    await expectOAuthError(await redeem(code, verifier, { redirect_uri: 'com.example.a:/cb' }), 'invalid_grant');
    const tampered = `${code.slice(0, -3)}${code.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    await expectOAuthError(await redeem(tampered, verifier), 'invalid_grant');
  });
});

describe('redirect URIs', () => {
  it.each([
    ['another path', 'http://127.0.0.1/other'],
    ['another host', 'http://127.0.0.2/callback'],
    ['localhost', 'http://localhost:4000/callback'],
    ['an added query', 'http://127.0.0.1/callback?x=1'],
    ['another client\'s scheme', 'com.example.b:/cb'],
  ])('never redirects to one not registered (%s): a 400 page instead', async (_why, uri) => {
    const response = await fetch(authorizeURL({ redirect_uri: uri, code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('an unknown client gets a page, not a redirect', async () => {
    const response = await fetch(authorizeURL({ client_id: 'nobody', code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });
});

describe('refresh tokens of one client', () => {
  it('cannot be used, or revoked, by another client; the owner keeps using them', async () => {
    const { code, verifier } = await codeFor();
    const tokens = (await (await redeem(code, verifier)).json()) as { refresh_token: string; access_token: string };
    await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'app-b' }), 'invalid_grant');
    expect((await formPost(`${server.origin}/oauth/revoke`, { token: tokens.refresh_token, client_id: 'app-b' })).status).toBe(200);
    expect((await bearer(tokens.access_token)).status).toBe(200);
    // Nothing rotated: app-a's token is still the live one.
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'app-a' })).status).toBe(200);
  });

  it('a browser session\'s refresh token is not accepted at the token endpoint', async () => {
    const issued = await server.gatehouse.auth.login(ALICE, { ip: '127.0.0.1', userAgent: null });
    await expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: issued.refreshToken, client_id: 'app-a' }), 'invalid_grant');
  });
});

describe('the sign-in page', () => {
  it('has a CSP allowing no script, posting only to itself and redirecting only to the app', async () => {
    const page = await fetch(authorizeURL({ code_challenge: pkce().challenge }));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).not.toContain('<script');
  });

  it('refuses a form without the browser\'s cookie (login CSRF) and one posted from another origin', async () => {
    const page = await fetch(authorizeURL({ code_challenge: pkce().challenge }));
    const sealed = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const noCookie = await formPost(`${server.origin}/oauth/authorize`, { request: sealed, ...ALICE }, { origin: server.origin });
    expect(noCookie.status).toBe(400);
    expect(noCookie.headers.get('location')).toBeNull();
    const otherSite = await formPost(`${server.origin}/oauth/authorize`, { request: sealed, ...ALICE }, { cookie, origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
  });

  it('a wrong password shows the form again with 401 and no code', async () => {
    const answer = await signIn(server, authorizeURL({ code_challenge: pkce().challenge }), { username: ALICE.username, password: 'wrong password entirely' });
    expect(answer.status).toBe(401);
    expect(answer.location).toBeNull();
    expect(await answer.page.text()).toContain('incorrect');
  });

  it('cancel sends access_denied back to the app', async () => {
    const page = await fetch(authorizeURL({ code_challenge: pkce().challenge }));
    const sealed = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const answer = await formPost(`${server.origin}/oauth/authorize`, { request: sealed, action: 'deny' }, { cookie, origin: server.origin });
    expect(new URL(answer.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });
});

describe('grants that are not offered', () => {
  it('the password grant is unsupported_grant_type', async () => {
    await expectOAuthError(await token({ grant_type: 'password', username: ALICE.username, password: ALICE.password, client_id: 'app-a' }), 'unsupported_grant_type');
  });

  it('implicit (response_type=token) is unsupported_response_type', async () => {
    const response = await fetch(authorizeURL({ response_type: 'token', code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('a native client cannot use client credentials, and an unknown client is invalid_client (401)', async () => {
    await expectOAuthError(await token({ grant_type: 'client_credentials', client_id: 'app-a' }), 'unauthorized_client');
    const unknown = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' });
    await expectOAuthError(unknown, 'invalid_client', 401);
  });

  it('a scope the client may not have is invalid_scope', async () => {
    const response = await fetch(authorizeURL({ scope: 'admin', code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('the token endpoint over HTTP', () => {
  it.each([
    ['declared by Content-Length', 200_000, 'grant_type=refresh_token&client_id=app-a&refresh_token='],
    ['streaming past the limit', 200_000, `grant_type=refresh_token&client_id=app-a&refresh_token=${'x'.repeat(70_000)}`],
  ])('closes the connection after a 413 (%s) whose body it did not read, so the rest is never taken for a request', async (_, declared, sent) => {
    const head = `POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${declared}\r\n\r\n`;
    // The body is shorter than its Content-Length: the second request's bytes would be read as the first one's body.
    const exchange = await rawExchange(server.origin, `${head}${sent}GET /oauth/token HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [answer] = exchange.text.split('\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.text.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
  });
});

describe('paths and methods', () => {
  it('GET on the token endpoint is 405 with Allow: POST; an unknown /oauth path is 404; both in the RFC shape', async () => {
    const get = await fetch(`${server.origin}/oauth/token`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ error: 'invalid_request' });
    expect((await fetch(`${server.origin}/oauth/nothing`)).status).toBe(404);
  });

  it('a form body is required: JSON is refused as invalid_request', async () => {
    const response = await fetch(`${server.origin}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"refresh_token"}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });
});
