// Sign-in with an OpenID provider from the SDK, against a real Gatehouse and
// a real provider (oidc-provider) on loopback. Node has no page to navigate,
// so `location.assign` records where the page would go and the test follows
// it the way the browser would; the full browser run is in
// packages/server/test/oidc/browser-login.test.ts (Chromium).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderUser, startOIDCServer, type OIDCTestServer } from '../../server/test/oidc/support/oidc-server.js';
import { createAuthClient, providerLoginURL, type AuthClient } from '../src/index.js';
import { cookieBrowser, type CookieBrowser } from './support/cookie-fetch.js';

let server: OIDCTestServer;
const assigned: string[] = [];
beforeAll(async () => {
  server = await startOIDCServer();
  vi.stubGlobal('location', { origin: server.origin, assign: (url: string) => assigned.push(url) });
});
afterAll(async () => {
  vi.unstubAllGlobals();
  await server?.close();
});
afterEach(() => {
  assigned.length = 0;
});

function tab(browser: CookieBrowser): AuthClient {
  return createAuthClient({ baseURL: server.origin, fetch: browser.fetch, readCookies: browser.readCookies, refreshLeadSeconds: false });
}

/** Does what the browser does after `login({ provider })`: visit the URL, sign in at the provider, come back. */
async function followLogin(browser: CookieBrowser, url: string, login: string): Promise<Response> {
  const start = await browser.fetch(url, { redirect: 'manual' });
  const callback = await new ProviderUser(login).signIn(start.headers.get('location') ?? '', server.origin);
  return browser.fetch(`${server.origin}${callback.pathname}${callback.search}`, { redirect: 'manual' });
}

describe('providers()', () => {
  it('lists the providers the server offers', async () => {
    const client = tab(cookieBrowser(server.origin));
    expect(await client.providers()).toEqual([
      { id: 'demo', displayName: 'Demo IdP', loginURL: '/auth/oidc/demo/login' },
      { id: 'corp', displayName: 'corp', loginURL: '/auth/oidc/corp/login' },
    ]);
    client.dispose();
  });
});

describe('login({ provider })', () => {
  it('navigates the page to the server\'s login URL for that provider; back from the provider, the client is signed in', async () => {
    const browser = cookieBrowser(server.origin);
    const client = tab(browser);
    const pending = client.login({ provider: 'demo', returnTo: '/inbox' });
    expect(assigned).toEqual([`${server.origin}/auth/oidc/demo/login?returnTo=%2Finbox`]);
    expect(assigned[0]).toBe(providerLoginURL(server.origin, 'demo', '/inbox'));
    let settled = false;
    void pending.then(() => (settled = true));
    const back = await followLogin(browser, assigned[0] ?? '', 'sdk-user');
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/inbox');
    // The page that loads after the redirect makes a new client, as an SPA would.
    const after = tab(browser);
    expect((await after.getUser()).username).toBe('sdk-user');
    expect(settled).toBe(false);
    client.dispose();
    after.dispose();
  });
});

describe('logout({ atProvider: true })', () => {
  it('ends the session and navigates the page to the provider\'s end-session URL', async () => {
    const browser = cookieBrowser(server.origin);
    await followLogin(browser, providerLoginURL(server.origin, 'demo'), 'sdk-logout');
    const client = tab(browser);
    await client.getUser();
    await client.logout({ atProvider: true });
    expect(client.state).toBeNull();
    expect(assigned).toHaveLength(1);
    expect(new URL(assigned[0] ?? '').href.startsWith(`${server.provider.issuer}/session/end?`)).toBe(true);
    expect((await tab(browser).getUser().catch((e: unknown) => e)) instanceof Error).toBe(true);
    client.dispose();
  });
});
