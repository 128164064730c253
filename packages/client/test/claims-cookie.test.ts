// With a server whose access token travels as two cookies (cookies.accessToken:
// "split"), the client knows who is signed in from the readable claims cookie:
// no /auth/me at start-up. The cookie is a hint; the server still judges.
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN, startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { createAuthClient, type AuthClient, type AuthClientOptions, type UnauthenticatedEvent } from '../src/index.js';
import { readClaimsCookie } from '../src/claims-cookie.js';
import { cookieBrowser, type CookieBrowser } from './support/cookie-fetch.js';

let server: TestServer | undefined;
const clients: AuthClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await server?.close();
  server = undefined;
});

/** A server whose clock reads the real time, so the client (on the real clock) sees its tokens as current. */
async function start(accessToken: 'whole' | 'split'): Promise<TestServer> {
  server = await startTestServer({ cookies: { accessToken } });
  server.clock.set(Date.now());
  return server;
}

function tab(browser: CookieBrowser, options: AuthClientOptions = {}): AuthClient {
  const client = createAuthClient({ baseURL: server!.baseURL, fetch: browser.fetch, readCookies: browser.readCookies, refreshLeadSeconds: false, ...options });
  clients.push(client);
  return client;
}

const meRequests = (browser: CookieBrowser) => browser.requests.filter((r) => r.path === '/auth/me').length;

describe('the claims cookie', () => {
  it('a new tab knows the signed-in user, roles and session without asking /auth/me, and its requests work', async () => {
    await start('split');
    const browser = cookieBrowser(APP_ORIGIN);
    const signedIn = await tab(browser).login(ALICE);
    const startingTab = tab(browser);
    const announced: string[] = [];
    startingTab.on('authenticated', (user) => announced.push(user.username));
    const user = await startingTab.getUser();
    expect(user).toEqual({ id: signedIn.id, username: 'alice', roles: ['user'] });
    expect(meRequests(browser)).toBe(0);
    expect(announced).toEqual(['alice']);
    expect(startingTab.state).toEqual(user);
    expect((await startingTab.fetch(`${server!.baseURL}/api/private`)).status).toBe(200);
  });

  it('is readable by script, unlike the signature half, and holds only the header and payload', async () => {
    await start('split');
    const browser = cookieBrowser(APP_ORIGIN);
    await tab(browser).login(ALICE);
    expect(browser.readCookies()).toContain('__Host-gh_claims=');
    expect(browser.readCookies()).not.toContain('gh_access');
    expect(readClaimsCookie(browser.readCookies(), ['__Host-gh_claims'])?.user.username).toBe('alice');
  });

  it('an expired token in it says nothing about the session: the client asks the server, which refreshes', async () => {
    await start('split');
    const browser = cookieBrowser(APP_ORIGIN);
    server!.clock.set(Date.now() - 310_000); // signed in five minutes ago: the token has expired on both clocks
    await tab(browser).login(ALICE);
    server!.clock.set(Date.now());
    const expired = readClaimsCookie(browser.readCookies(), ['__Host-gh_claims'])!;
    expect(expired.expiresAtMs).toBeLessThan(Date.now());
    const later = tab(browser);
    expect((await later.getUser()).username).toBe('alice');
    expect(meRequests(browser)).toBe(2); // TOKEN_EXPIRED, then again after the refresh
    expect(browser.requests.filter((r) => r.path === '/auth/refresh')).toHaveLength(1);
    expect(readClaimsCookie(browser.readCookies(), ['__Host-gh_claims'])!.expiresAtMs).toBeGreaterThan(Date.now());
  });

  it('a rewritten claims cookie convinces the client for a moment and the server not at all: the first request signs the tab out', async () => {
    await start('split');
    const browser = cookieBrowser(APP_ORIGIN);
    await tab(browser).login(ALICE);
    const [header, payload] = browser.jar.get('__Host-gh_claims')!.value.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    browser.jar.get('__Host-gh_claims')!.value = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}`;
    const fooled = tab(browser);
    const events: UnauthenticatedEvent[] = [];
    fooled.on('unauthenticated', (event) => events.push(event));
    expect((await fooled.getUser()).roles).toEqual(['admin']);
    const response = await fooled.fetch(`${server!.baseURL}/api/admin`);
    expect(response.status).toBe(401);
    expect(fooled.state).toBeNull();
    expect(events.map((e) => e.error?.code)).toEqual(['TOKEN_INVALID']);
  });

  it('without split cookies nothing changes: the first getUser asks /auth/me', async () => {
    await start('whole');
    const browser = cookieBrowser(APP_ORIGIN);
    await tab(browser).login(ALICE);
    expect(browser.readCookies()).not.toContain('gh_claims');
    expect((await tab(browser).getUser()).username).toBe('alice');
    expect(meRequests(browser)).toBe(1);
  });

  it('sign-out clears it: a new tab asks the server and finds nobody', async () => {
    await start('split');
    const browser = cookieBrowser(APP_ORIGIN);
    const first = tab(browser);
    await first.login(ALICE);
    await first.logout();
    expect(browser.readCookies()).not.toContain('gh_claims');
    const error = await tab(browser).getUser().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(meRequests(browser)).toBe(1);
  });

  it('ignores a cookie of that name that is not a token’s header and payload', () => {
    expect(readClaimsCookie('__Host-gh_claims=hello', ['__Host-gh_claims'])).toBeUndefined();
    expect(readClaimsCookie('__Host-gh_claims=a.b.c', ['__Host-gh_claims'])).toBeUndefined();
    const noRoles = Buffer.from(JSON.stringify({ sub: 'u', sid: 's', exp: 1, preferred_username: 'x' })).toString('base64url');
    expect(readClaimsCookie(`__Host-gh_claims=e30.${noRoles}`, ['__Host-gh_claims'])).toBeUndefined();
  });
});
