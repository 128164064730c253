// The Vue adapter's plugin, composable and guard, against a real Gatehouse
// server over loopback (Node's fetch with a cookie jar as the browser). The
// same adapter in a production build, in Chromium: examples/adapters/test.
import { createApp } from 'vue';
import type { RouteLocationNormalized, RouteLocationNormalizedLoaded } from 'vue-router';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN, startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { createAuthClient, type AuthClient } from '../src/index.js';
import { authGuard, createGatehouse, useAuth } from '../src/vue.js';
import { cookieBrowser } from './support/cookie-fetch.js';

let server: TestServer;
const clients: AuthClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await server.close();
});

function newClient(baseURL: string = server.baseURL): AuthClient {
  const browser = cookieBrowser(APP_ORIGIN);
  const client = createAuthClient({ baseURL, fetch: browser.fetch, readCookies: browser.readCookies, refreshLeadSeconds: false });
  clients.push(client);
  return client;
}

/** Runs a guard the way vue-router does for a navigation to `fullPath`. */
async function navigate(guard: ReturnType<typeof authGuard>, fullPath: string): Promise<unknown> {
  const to = { fullPath, path: fullPath } as RouteLocationNormalized;
  return guard(to, {} as RouteLocationNormalizedLoaded, () => {});
}

describe('authGuard', () => {
  it('sends a signed-out visitor to sign in, with the page they wanted', async () => {
    expect(await navigate(authGuard(newClient()), '/account?tab=2')).toEqual({ path: '/login', query: { returnTo: '/account?tab=2' } });
  });

  it('lets a signed-in user through', async () => {
    const client = newClient();
    await client.login(ALICE);
    expect(await navigate(authGuard(client, { redirectTo: '/sign-in' }), '/account')).toBe(true);
  });

  it('refuses a signed-in user without the role: to forbiddenRedirectTo, or cancelled', async () => {
    const client = newClient();
    await client.login(ALICE); // role "user" only
    expect(await navigate(authGuard(client, { role: 'admin', forbiddenRedirectTo: '/forbidden' }), '/admin')).toBe('/forbidden');
    expect(await navigate(authGuard(client, { role: 'admin' }), '/admin')).toBe(false);
    expect(await navigate(authGuard(client, { role: 'user' }), '/notes')).toBe(true);
  });

  it('cancels the navigation, rather than offering sign-in, when the server cannot be reached', async () => {
    // A port nothing listens on: the server that just closed.
    const gone = await startTestServer();
    await gone.close();
    expect(await navigate(authGuard(newClient(gone.baseURL)), '/account')).toBe(false);
  });
});

describe('createGatehouse and useAuth', () => {
  it('gives components a state ref that follows the client, from undefined to the user to null', async () => {
    const client = newClient();
    const app = createApp({ render: () => null }).use(createGatehouse(client));
    const auth = app.runWithContext(() => useAuth());
    expect(auth.client).toBe(client);
    // The plugin asked the server once; no one is signed in yet.
    await expect(client.getUser()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(auth.state.value).toBeNull();
    expect(auth.isAuthenticated.value).toBe(false);

    await auth.login(ALICE);
    expect(auth.user.value?.username).toBe(ALICE.username);
    expect(auth.isAuthenticated.value).toBe(true);

    await auth.logout();
    expect(auth.state.value).toBeNull();
    expect(auth.user.value).toBeNull();
  });

  it('useAuth outside the plugin says what is missing', () => {
    const app = createApp({ render: () => null });
    expect(() => app.runWithContext(() => useAuth())).toThrow(/createGatehouse/);
  });
});
