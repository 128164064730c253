/**
 * Ending sessions together with the provider: RP-initiated logout
 * (Gatehouse sends the browser to the provider's end-session endpoint) and
 * OpenID Connect Back-Channel Logout 1.0 (the provider tells Gatehouse),
 * against a real provider; and the logout tokens Gatehouse must refuse.
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse } from '../../src/gatehouse.js';
import type { TestBrowser } from '../support/test-browser.js';
import { ProviderUser, signInWith, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };

let server: OIDCTestServer;
beforeAll(async () => {
  server = await startOIDCServer();
});
afterAll(async () => {
  await server?.close();
});

async function signedIn(login: string, user = new ProviderUser(login)): Promise<{ browser: TestBrowser; user: ProviderUser; sessionId: string; sid: string }> {
  const browser = server.browser();
  expect((await signInWith(server, browser, 'demo', user)).status).toBe(303);
  const sessionId = (await browser.get('/auth/me')).body.session.id as string;
  const sid = (await server.gatehouse.store.findProviderSession(sessionId))?.sid ?? '';
  return { browser, user, sessionId, sid };
}

/** A logout token signed with the provider's own key; `claims` override the valid defaults. */
async function logoutToken(claims: JWTPayload & Record<string, unknown>, header: { alg?: string; typ?: string } = {}): Promise<string> {
  const key = await importJWK(server.provider.signingKey, 'RS256');
  const payload = { iss: server.provider.issuer, aud: 'gatehouse', iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: EVENT, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete (payload as Record<string, unknown>)[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: server.provider.signingKey.kid, typ: 'logout+jwt', ...header }).sign(key);
}

function postLogoutToken(token: string, provider = 'demo') {
  return fetch(`${server.baseURL}/auth/oidc/${provider}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

async function errorCode(response: Response): Promise<unknown> {
  return ((await response.json()) as { error?: { code?: unknown } }).error?.code;
}

describe('RP-initiated logout: POST /auth/oidc/logout', () => {
  it('ends the Gatehouse session and sends the browser to the provider with id_token_hint and post_logout_redirect_uri', async () => {
    const { browser, sessionId, user } = await signedIn('rp-logout');
    const response = await browser.post('/auth/oidc/logout');
    expect(response.status).toBe(200);
    const url = new URL(response.body.redirectTo);
    expect(`${url.origin}${url.pathname}`).toBe(`${server.provider.issuer}/session/end`);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${server.origin}/`);
    expect(url.searchParams.get('client_id')).toBe('gatehouse');
    expect(url.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(response.headers.get('clear-site-data')).toBe('"cookies"');
    expect((await server.gatehouse.store.findSession(sessionId))?.revokeReason).toBe('logout');
    expect((await browser.get('/auth/me')).status).toBe(401);
    // At the provider: the sign-out completes and the browser comes back to the SPA.
    const back = await user.signOut(url.href, server.origin);
    expect(back.href).toBe(`${server.origin}/`);
  });

  it('needs the CSRF token like any state change', async () => {
    const { browser, sessionId } = await signedIn('rp-csrf');
    const response = await browser.post('/auth/oidc/logout', { xsrf: false });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
    expect((await server.gatehouse.store.findSession(sessionId))?.revokedAt).toBeNull();
  });

  it('answers redirectTo null for a password session', async () => {
    const browser = server.browser();
    await browser.login({ username: 'alice', password: 'correct horse battery staple' });
    const response = await browser.post('/auth/oidc/logout');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ redirectTo: null });
  });
});

describe('back-channel logout from the provider', () => {
  it('a sign-out at the provider ends the Gatehouse sessions of that provider session, and only those', async () => {
    const user = new ProviderUser('bcl-user');
    const first = await signedIn('bcl-user', user);
    const second = await signedIn('bcl-user', user); // the same provider session: the same sid
    const other = await signedIn('bcl-other');
    expect(second.sid).toBe(first.sid);
    expect(other.sid).not.toBe(first.sid);
    // The user signs out at the provider itself; the provider calls Gatehouse's back channel.
    const back = await user.signOut(`${server.provider.issuer}/session/end`, server.origin).catch(() => null);
    expect(back).toBeNull(); // no redirect back to Gatehouse without a post_logout_redirect_uri
    for (const { browser, sessionId } of [first, second]) {
      expect((await server.gatehouse.store.findSession(sessionId))?.revokeReason).toBe('provider_logout');
      const me = await browser.get('/auth/me');
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('SESSION_REVOKED');
    }
    expect((await other.browser.get('/auth/me')).status).toBe(200);
    const events = await server.gatehouse.store.listAudit({ type: 'provider_logout' });
    expect(events.map((e) => e.sessionId)).toEqual(expect.arrayContaining([first.sessionId, second.sessionId]));
  });

  it('reaches every instance: another instance on the same store refuses the session\'s access token within its revocation sync', async () => {
    const { browser, sessionId, sid } = await signedIn('bcl-two-instances');
    const other = await createGatehouse({ config: server.gatehouse.config, clock: server.clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
    try {
      const guard = other.guard();
      const request = () => new Request(`${server.origin}/api/whoami`, { headers: { cookie: browser.cookieHeader('/api/whoami') } });
      const client = { ip: '127.0.0.1', userAgent: null };
      expect((await guard(request(), client)).ok).toBe(true);
      const client2 = (await server.provider.provider.Client.find('gatehouse')) ?? expect.unreachable('client gatehouse is registered');
      await client2.backchannelLogout('bcl-two-instances', sid);
      expect((await server.gatehouse.store.findSession(sessionId))?.revokeReason).toBe('provider_logout');
      await vi.waitFor(async () => {
        const outcome = await guard(request(), client);
        expect(outcome.ok ? null : outcome.error.code).toBe('SESSION_REVOKED');
      }, { timeout: 2_000, interval: 25 });
    } finally {
      await other.close();
    }
  });

  it('a logout token naming only sub ends every session of that subject at that provider', async () => {
    const a = await signedIn('bcl-sub');
    const b = await signedIn('bcl-sub'); // another provider session (new ProviderUser), same subject
    expect(b.sid).not.toBe(a.sid);
    expect((await postLogoutToken(await logoutToken({ sub: 'bcl-sub' }))).status).toBe(200);
    for (const { sessionId } of [a, b]) expect((await server.gatehouse.store.findSession(sessionId))?.revokeReason).toBe('provider_logout');
  });
});

describe('logout tokens Gatehouse refuses (400, and the session lives on)', () => {
  /** Posts the token built for a fresh session; returns the response and whether the session survived. */
  async function attempt(build: (session: { sid: string; sub: string }) => Promise<string>, provider = 'demo') {
    const login = `bcl-${randomUUID().slice(0, 8)}`;
    const { sessionId, sid } = await signedIn(login);
    const response = await postLogoutToken(await build({ sid, sub: login }), provider);
    const alive = (await server.gatehouse.store.findSession(sessionId))?.revokedAt === null;
    return { response, alive };
  }

  it('accepts the well-formed token these cases alter (so each refusal below has one cause)', async () => {
    const { response, alive } = await attempt(({ sid, sub }) => logoutToken({ sid, sub }));
    expect(response.status).toBe(200);
    expect(alive).toBe(false);
  });

  it.each([
    ['with a nonce (an ID token is never a logout token)', (s: { sid: string; sub: string }) => logoutToken({ ...s, nonce: 'n' })],
    ['for another audience', (s: { sid: string; sub: string }) => logoutToken({ ...s, aud: 'another-client' })],
    ['from another issuer', (s: { sid: string; sub: string }) => logoutToken({ ...s, iss: 'https://attacker.example' })],
    ['without the back-channel logout event', (s: { sid: string; sub: string }) => logoutToken({ ...s, events: { 'urn:other': {} } })],
    ['without sid and sub', () => logoutToken({})],
    ['without jti', (s: { sid: string; sub: string }) => logoutToken({ ...s, jti: undefined })],
    ['without iat', (s: { sid: string; sub: string }) => logoutToken({ ...s, iat: undefined })],
    ['issued too long ago', (s: { sid: string; sub: string }) => logoutToken({ ...s, iat: Math.floor(Date.now() / 1000) - 600 })],
    ['of another typ', (s: { sid: string; sub: string }) => logoutToken(s, { typ: 'JWT+other' })],
    ['unsigned (alg: none)', async (s: { sid: string; sub: string }) =>
      new UnsecuredJWT({ ...s, iss: server.provider.issuer, aud: 'gatehouse', iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: EVENT }).encode()],
    ['signed with another key', async (s: { sid: string; sub: string }) => {
      const forger = await generateKeyPair('RS256');
      return new SignJWT({ ...s, iss: server.provider.issuer, aud: 'gatehouse', iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: EVENT })
        .setProtectedHeader({ alg: 'RS256', kid: server.provider.signingKey.kid })
        .sign(forger.privateKey);
    }],
    ['signed with the client secret (HS256)', async (s: { sid: string; sub: string }) =>
      new SignJWT({ ...s, iss: server.provider.issuer, aud: 'gatehouse', iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: EVENT })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(server.provider.clients.secret.secret))],
  ])('refuses a logout token %s', async (_name, build) => {
    const { response, alive } = await attempt(build);
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('LOGOUT_TOKEN_INVALID');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(alive).toBe(true);
  });

  it('refuses a replayed jti, even after the first use succeeded', async () => {
    const { sid, sessionId } = await signedIn('bcl-replay');
    const token = await logoutToken({ sid, sub: 'bcl-replay' });
    expect((await postLogoutToken(token)).status).toBe(200);
    const replay = await postLogoutToken(token);
    expect(replay.status).toBe(400);
    expect(await errorCode(replay)).toBe('LOGOUT_TOKEN_REPLAYED');
    expect((await server.gatehouse.store.findSession(sessionId))?.revokeReason).toBe('provider_logout');
  });

  it('refuses demo\'s logout token at corp\'s endpoint (its audience is another client)', async () => {
    const { response, alive } = await attempt(({ sid, sub }) => logoutToken({ sid, sub }), 'corp');
    expect(response.status).toBe(400);
    expect(alive).toBe(true);
  });

  it('refuses a request that is not a form post with one logout_token', async () => {
    const json = await fetch(`${server.baseURL}/auth/oidc/demo/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const empty = await fetch(`${server.baseURL}/auth/oidc/demo/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(empty.status).toBe(400);
    expect(await errorCode(empty)).toBe('LOGOUT_TOKEN_INVALID');
  });
});
