/**
 * Signing in with an OpenID provider, end to end over HTTP against a real
 * provider (oidc-provider) on loopback: the authorization code flow with
 * PKCE, the transaction cookie, the callback's checks, and the session it
 * opens — the same cookies and rules as a password login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, ProviderUser, signInWith, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

let server: OIDCTestServer;
beforeAll(async () => {
  server = await startOIDCServer();
});
afterAll(async () => {
  await server?.close();
});

describe('GET /auth/oidc/providers', () => {
  it('lists the configured providers with their display names and login URLs, and nothing secret', async () => {
    const response = await server.browser().get('/auth/oidc/providers');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      providers: [
        { id: 'demo', displayName: 'Demo IdP', loginURL: '/auth/oidc/demo/login' },
        { id: 'corp', displayName: 'corp', loginURL: '/auth/oidc/corp/login' },
      ],
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('GET /auth/oidc/:provider/login', () => {
  it('redirects to the provider with the code flow, PKCE S256, state and nonce, and sets a Lax transaction cookie for that provider only', async () => {
    const browser = server.browser();
    const response = await browser.get('/auth/oidc/demo/login?returnTo=%2Finbox%3Ftab%3D2');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin).toBe(server.provider.issuer);
    const q = location.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('gatehouse');
    expect(q.get('redirect_uri')).toBe(`${server.origin}/auth/oidc/demo/callback`);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('scope')).toBe('openid profile email');

    const [cookie] = response.setCookies;
    expect(response.setCookies).toHaveLength(1);
    expect(cookie?.name).toBe('__Secure-gh_oidc_demo');
    expect(cookie?.attributes.get('samesite')).toBe('Lax');
    expect(cookie?.attributes.get('path')).toBe('/auth/oidc/demo');
    expect(cookie?.attributes.has('httponly')).toBe(true);
    expect(cookie?.attributes.has('secure')).toBe(true);
    expect(Number(cookie?.attributes.get('max-age'))).toBe(600);
    // A JWE: the PKCE verifier inside cannot be read, and nothing in it appears in the URL.
    expect(cookie?.value.split('.')).toHaveLength(5);
    expect(cookie?.value).not.toContain(q.get('state'));
  });

  it('refuses an unknown provider with 404', async () => {
    const response = await server.browser().get('/auth/oidc/nobody/login');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('the callback', () => {
  it('opens a Gatehouse session with the usual cookies and sends the browser to returnTo', async () => {
    const browser = server.browser();
    const response = await signInWith(server, browser, 'demo', new ProviderUser('oidc-alice'), '/inbox?tab=2');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/inbox?tab=2');
    const names = response.setCookies.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['__Host-gh_access', '__Secure-gh_refresh', 'XSRF-TOKEN', '__Secure-gh_oidc_demo']));
    expect(response.setCookies.find((c) => c.name === '__Secure-gh_oidc_demo')?.attributes.get('max-age')).toBe('0');

    const me = await browser.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe('oidc-alice');
    const whoami = await browser.get('/api/whoami');
    expect(whoami.status).toBe(200);
    // The provider's tokens never reach the browser: not in cookies, not in bodies.
    const seen = JSON.stringify([response, me.body, whoami.body, [...browser.jar]]);
    for (const token of await tokensOf(me.body.session.id)) expect(seen).not.toContain(token);
  });

  it('signs the same provider identity into the same account the next time, and a new session each time', async () => {
    const user = new ProviderUser('repeat-user');
    const first = server.browser();
    await signInWith(server, first, 'demo', user);
    const second = server.browser();
    await signInWith(server, second, 'demo', user);
    const [a, b] = [(await first.get('/auth/me')).body, (await second.get('/auth/me')).body];
    expect(a.user.id).toBe(b.user.id);
    expect(a.session.id).not.toBe(b.session.id);
  });

  it('works with private_key_jwt client authentication (provider corp), and keys identities by issuer and subject', async () => {
    const user = new ProviderUser('jwt-user');
    const viaDemo = server.browser();
    await signInWith(server, viaDemo, 'demo', user);
    const viaCorp = server.browser();
    const response = await signInWith(server, viaCorp, 'corp', user);
    expect(response.status).toBe(303);
    // Same issuer, same subject: the same person, whichever client registration they came through.
    expect((await viaCorp.get('/auth/me')).body.user.id).toBe((await viaDemo.get('/auth/me')).body.user.id);
  });

  it('never joins a provider identity to a local account by e-mail or name: a new account is made', async () => {
    // The provider asserts preferred_username "alice" and alice@…; the local alice is not touched.
    const browser = server.browser();
    await signInWith(server, browser, 'demo', new ProviderUser('alice'));
    const me = (await browser.get('/auth/me')).body;
    const local = await server.gatehouse.store.findUserByUsername(ALICE.username);
    expect(me.user.id).not.toBe(local?.id);
    expect(me.user.username).toMatch(/^alice-[0-9a-f]{6}$/);
  });

  it('ends the session the browser had before (a new session on every sign-in)', async () => {
    const browser = server.browser();
    await browser.login(ALICE);
    const before = (await browser.get('/auth/me')).body.session.id;
    await signInWith(server, browser, 'demo', new ProviderUser('switcher'));
    expect((await server.gatehouse.store.findSession(before))?.revokeReason).toBe('logout');
  });

  it('records the provider session (sid) and the provider tokens sealed, server-side', async () => {
    const browser = server.browser();
    await signInWith(server, browser, 'demo', new ProviderUser('sealed'));
    const sessionId = (await browser.get('/auth/me')).body.session.id;
    const record = await server.gatehouse.store.findProviderSession(sessionId);
    expect(record).toMatchObject({ providerId: 'demo', issuer: server.provider.issuer, subject: 'sealed', tokenVersion: 0 });
    expect(record?.sid).toMatch(/.+/);
    const [accessToken] = await tokensOf(sessionId);
    expect(record?.sealedTokens).toMatch(/^v1\./);
    expect(record?.sealedTokens).not.toContain(accessToken);
  });
});

/** The provider tokens Gatehouse holds for a session (through the server-side interface). */
async function tokensOf(sessionId: string): Promise<string[]> {
  const token = await server.gatehouse.providerTokens?.accessTokenFor(sessionId);
  return token === null || token === undefined ? [] : [token.token];
}


