/**
 * Linking a provider identity to an existing account (an explicit step after
 * re-entering the password), and the provider's tokens kept and refreshed on
 * the server, against a real provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, ProviderUser, presentCallback, signInWith, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

let server: OIDCTestServer;
beforeAll(async () => {
  server = await startOIDCServer({ config: { login: { accountFreeAttempts: 50 } } });
});
afterAll(async () => {
  await server?.close();
});

async function aliceSignedIn() {
  const browser = server.browser();
  expect((await browser.login(ALICE)).status).toBe(200);
  return browser;
}

describe('linking a provider identity: POST /auth/oidc/:provider/link', () => {
  it('after the password is re-entered, links the identity and the provider signs alice in from then on', async () => {
    const browser = await aliceSignedIn();
    const sessionBefore = (await browser.get('/auth/me')).body.session.id;
    const start = await browser.post('/auth/oidc/demo/link', { json: { password: ALICE.password, returnTo: '/settings' } });
    expect(start.status).toBe(200);
    expect(start.setCookies.map((c) => c.name)).toEqual(['__Secure-gh_oidc_demo']);
    const callback = await new ProviderUser('alice-at-idp').signIn(start.body.authorizationURL, server.origin);
    const done = await presentCallback(browser, callback);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/settings');
    // Linking keeps the session it was done in; no new session cookies.
    expect(done.setCookies.map((c) => c.name)).toEqual(['__Secure-gh_oidc_demo']);
    expect((await browser.get('/auth/me')).body.session.id).toBe(sessionBefore);
    const alice = await server.gatehouse.store.findUserByUsername('alice');
    expect(await server.gatehouse.store.findIdentity(server.provider.issuer, 'alice-at-idp')).toMatchObject({ userId: alice?.id, providerId: 'demo' });
    expect((await server.gatehouse.store.listAudit({ type: 'identity_linked', limit: 1 }))[0]).toMatchObject({ userId: alice?.id, detail: { provider: 'demo' } });

    const elsewhere = server.browser();
    await signInWith(server, elsewhere, 'demo', new ProviderUser('alice-at-idp'));
    expect((await elsewhere.get('/auth/me')).body.user.username).toBe('alice');
  });

  it('refuses a wrong password (INVALID_CREDENTIALS) and starts nothing', async () => {
    const browser = await aliceSignedIn();
    const response = await browser.post('/auth/oidc/demo/link', { json: { password: 'not the password' } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(response.setCookies).toEqual([]);
  });

  it('needs a signed-in browser, and the CSRF token', async () => {
    const anonymous = await server.browser().post('/auth/oidc/demo/link', { json: { password: ALICE.password } });
    expect(anonymous.status).toBe(401);
    const browser = await aliceSignedIn();
    const forged = await browser.post('/auth/oidc/demo/link', { json: { password: ALICE.password }, xsrf: false });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses an identity already linked to another account (IDENTITY_ALREADY_LINKED)', async () => {
    // "taken-identity" signs in first and gets an account of its own.
    await signInWith(server, server.browser(), 'demo', new ProviderUser('taken-identity'));
    const browser = await aliceSignedIn();
    const start = await browser.post('/auth/oidc/demo/link', { json: { password: ALICE.password } });
    const callback = await new ProviderUser('taken-identity').signIn(start.body.authorizationURL, server.origin);
    const response = await presentCallback(browser, callback);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('IDENTITY_ALREADY_LINKED');
  });

  it('refuses to complete a link once the session that asked for it has ended', async () => {
    const browser = await aliceSignedIn();
    const start = await browser.post('/auth/oidc/demo/link', { json: { password: ALICE.password } });
    const callback = await new ProviderUser('late-link').signIn(start.body.authorizationURL, server.origin);
    await browser.post('/auth/logout');
    const response = await presentCallback(browser, callback);
    expect(response.status).toBe(401);
    expect(await server.gatehouse.store.findIdentity(server.provider.issuer, 'late-link')).toBeNull();
  });
});

describe('provider tokens, kept on the server', () => {
  it('gives the session\'s provider access token, and refreshes it at the provider when it is about to expire', async () => {
    const browser = server.browser();
    await signInWith(server, browser, 'demo', new ProviderUser('token-user'));
    const sessionId = (await browser.get('/auth/me')).body.session.id;
    const source = server.gatehouse.providerTokens;
    const first = await source?.accessTokenFor(sessionId);
    expect(first).toMatchObject({ providerId: 'demo' });
    // The provider accepts it (its userinfo endpoint answers for that user).
    expect(await userinfoSub(first?.token ?? '')).toBe('token-user');
    expect(await source?.accessTokenFor(sessionId)).toEqual(first);

    const refreshesBefore = server.provider.grants.get('refresh_token') ?? 0;
    server.clock.advance(3600_000 - 30_000); // less than a minute of the hour-long token left
    try {
      const [a, b] = await Promise.all([source?.accessTokenFor(sessionId), source?.accessTokenFor(sessionId)]);
      expect(a?.token).not.toBe(first?.token);
      expect(b).toEqual(a);
      expect(server.provider.grants.get('refresh_token')).toBe(refreshesBefore + 1);
      expect(await userinfoSub(a?.token ?? '')).toBe('token-user');
      expect((await server.gatehouse.store.findProviderSession(sessionId))?.tokenVersion).toBe(1);
      expect(await source?.authorization({ sessionId })).toBe(`Bearer ${a?.token}`);
    } finally {
      server.clock.set(Date.now());
    }
  });

  it('has none for a password session (null; the gateway\'s authorization() refuses with 401)', async () => {
    const browser = await aliceSignedIn();
    const sessionId = (await browser.get('/auth/me')).body.session.id;
    expect(await server.gatehouse.providerTokens?.accessTokenFor(sessionId)).toBeNull();
    await expect(server.gatehouse.providerTokens?.authorization({ sessionId })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

async function userinfoSub(token: string): Promise<unknown> {
  const response = await fetch(`${server.provider.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
  return response.ok ? ((await response.json()) as { sub?: unknown }).sub : response.status;
}
