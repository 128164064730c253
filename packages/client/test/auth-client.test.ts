// The core client against a real Gatehouse server over loopback. Node's fetch
// keeps no cookies, so each "browser" is a cookie jar (support/cookie-fetch);
// two clients on one jar are two tabs of one browser. Cross-tab behaviour with
// Web Locks is proven in Chromium (examples/demo/test).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN, BOB, startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { createAuthClient, isAuthError, type AuthClient, type AuthClientOptions, type UnauthenticatedEvent } from '../src/index.js';
import { cookieBrowser, type CookieBrowser } from './support/cookie-fetch.js';

const ACCESS_TTL_MS = 300_000; // the server's default access-token lifetime
/** Past the access token's expiry and the server's 5 s clock tolerance. */
const PAST_EXPIRY_MS = ACCESS_TTL_MS + 10_000;

let server: TestServer;
const clients: AuthClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await server.close();
});

/** A client ("tab") in `browser`; proactive refresh off, since the server's clock is a manual one. */
function tab(browser: CookieBrowser, options: AuthClientOptions = {}): AuthClient {
  const client = createAuthClient({ baseURL: server.baseURL, fetch: browser.fetch, readCookies: browser.readCookies, refreshLeadSeconds: false, ...options });
  clients.push(client);
  return client;
}

const countRequests = (browser: CookieBrowser, path: string) => browser.requests.filter((r) => r.path === path).length;

function recordEvents(client: AuthClient): { authenticated: string[]; unauthenticated: UnauthenticatedEvent[] } {
  const seen = { authenticated: [] as string[], unauthenticated: [] as UnauthenticatedEvent[] };
  client.on('authenticated', (user) => seen.authenticated.push(user.username));
  client.on('unauthenticated', (event) => seen.unauthenticated.push(event));
  return seen;
}

/** Resolves once `predicate` holds, checking after each macrotask (BroadcastChannel delivers asynchronously). */
async function eventually(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(predicate()).toBe(true);
}

describe('getUser and state', () => {
  it('starts undefined; a visitor without a session gets a 401 AuthError, state null and no event', async () => {
    const client = tab(cookieBrowser(APP_ORIGIN));
    const events = recordEvents(client);
    expect(client.state).toBeUndefined();
    const error = await client.getUser().catch((e: unknown) => e);
    expect(isAuthError(error, 'UNAUTHENTICATED')).toBe(true);
    expect(error).toMatchObject({ status: 401 });
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([]);
  });

  it('shares one /auth/me among callers while it is in flight, and remembers the answer', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    await tab(browser).login(ALICE);
    const client = tab(browser);
    const states: unknown[] = [];
    client.subscribe((state) => states.push(state));
    const users = await Promise.all([client.getUser(), client.getUser(), client.getUser()]);
    expect(users.map((u) => u.username)).toEqual(['alice', 'alice', 'alice']);
    expect(await client.getUser()).toBe(users[0]);
    expect(countRequests(browser, '/auth/me')).toBe(1);
    expect(states).toEqual([users[0]]);

    await client.refreshUser();
    expect(countRequests(browser, '/auth/me')).toBe(2);
  });

  it('remembers "signed out" too: a second getUser asks nobody', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await expect(client.getUser()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(client.getUser()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(countRequests(browser, '/auth/me')).toBe(1);
  });
});

describe('login and logout', () => {
  it('signs in: state is the user, authenticated fires, session info is known', async () => {
    const client = tab(cookieBrowser(APP_ORIGIN));
    const events = recordEvents(client);
    const user = await client.login(ALICE);
    expect(user).toMatchObject({ username: 'alice', roles: ['user'] });
    expect(client.state).toBe(user);
    expect(events.authenticated).toEqual(['alice']);
    expect(client.session?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Date.parse(client.session?.accessTokenExpiresAt ?? '')).toBe(server.clock.now() + ACCESS_TTL_MS - (server.clock.now() % 1000));
  });

  it('a wrong password rejects with INVALID_CREDENTIALS and changes nothing', async () => {
    const client = tab(cookieBrowser(APP_ORIGIN));
    const events = recordEvents(client);
    await expect(client.login({ username: 'alice', password: 'wrong password' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
    expect(client.state).toBeUndefined();
    expect(events).toEqual({ authenticated: [], unauthenticated: [] });
  });

  it('logout ends the session on the server, signs out with reason "logout", and tells the other tabs', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const here = tab(browser);
    const there = tab(browser);
    await here.login(ALICE);
    await there.getUser();
    const hereEvents = recordEvents(here);
    const thereEvents = recordEvents(there);

    await here.logout();
    expect(here.state).toBeNull();
    expect(hereEvents.unauthenticated).toEqual([{ reason: 'logout' }]);
    await eventually(() => there.state === null);
    expect(thereEvents.unauthenticated).toEqual([{ reason: 'logout' }]);
    const me = await browser.fetch(`${server.baseURL}/auth/me`);
    expect(me.status).toBe(401);
  });

  it('a login in another tab reaches this one', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const here = tab(browser);
    const there = tab(browser);
    await expect(there.getUser()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const thereEvents = recordEvents(there);
    await here.login(ALICE);
    await eventually(() => there.state?.username === 'alice');
    expect(thereEvents.authenticated).toEqual(['alice']);
  });
});

describe('fetch', () => {
  it('adds the XSRF header to unsafe requests to its own origin, so a guarded POST passes', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    const response = await client.fetch(`${server.baseURL}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(response.status).toBe(201);
    const sent = browser.requests.at(-1)!;
    expect(sent.headers.get('x-xsrf-token')).toBe(browser.jar.get('XSRF-TOKEN')?.value);

    await client.fetch(`${server.baseURL}/api/notes`);
    expect(browser.requests.at(-1)!.headers.has('x-xsrf-token')).toBe(false); // GET: not needed, not sent
  });

  it('when the XSRF cookie is gone, has the server re-issue it and retries the refused request once', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    browser.jar.delete('XSRF-TOKEN'); // cleared by the user, or by another script
    const response = await client.fetch(`${server.baseURL}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"still works"}' });
    expect(response.status).toBe(201);
    expect(browser.requests.map((r) => `${r.method} ${r.path}`).slice(-3)).toEqual(['POST /api/notes', 'GET /auth/me', 'POST /api/notes']);
    expect(client.state?.username).toBe('alice');
  });

  it('a second CSRF refusal is handed back as it is', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    const response = await client.fetch(`${server.baseURL}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xsrf-token': 'forged.token' }, // the caller's own header is kept
      body: '{"text":"x"}',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'CSRF_REJECTED' } });
    expect(countRequests(browser, '/api/notes')).toBe(2);
    expect(client.state?.username).toBe('alice'); // a CSRF refusal is not a sign-out
  });

  it('never sends the XSRF token to another origin, and leaves 401s from there alone', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const other: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"SESSION_REVOKED","message":"x"}}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const browser = cookieBrowser(APP_ORIGIN);
      const client = tab(browser);
      await client.login(ALICE);
      const response = await client.fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/collect`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(401);
      expect(seen).toHaveLength(1);
      expect(seen[0]!['x-xsrf-token']).toBeUndefined();
      expect(client.state?.username).toBe('alice'); // another origin's 401 says nothing about our session
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('after the access token expires, refreshes once for all concurrent callers and retries each once', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    server.clock.advance(PAST_EXPIRY_MS);
    const responses = await Promise.all([1, 2, 3].map(() => client.fetch(`${server.baseURL}/api/private`)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(countRequests(browser, '/auth/refresh')).toBe(1);
    expect(countRequests(browser, '/api/private')).toBe(6);
    expect(Date.parse(client.session!.accessTokenExpiresAt)).toBeGreaterThan(server.clock.now());
  });

  it('replays a Request object with its body after the refresh', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    server.clock.advance(PAST_EXPIRY_MS);
    const request = new Request(`${server.baseURL}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"kept"}' });
    const response = await client.fetch(request);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ notes: ['kept'] });
  });

  it('two tabs without Web Locks whose tokens expire together both keep working, and the session is not taken for reuse', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const first = tab(browser);
    const second = tab(browser);
    await first.login(ALICE);
    await second.getUser();
    server.clock.advance(PAST_EXPIRY_MS);
    const [a, b] = await Promise.all([first.fetch(`${server.baseURL}/api/private`), second.fetch(`${server.baseURL}/api/private`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const session = await server.gatehouse.store.findSession(first.session!.id);
    expect(session?.revokedAt).toBeNull();
    expect(await server.gatehouse.store.listAudit({ type: 'refresh_token_reused' })).toEqual([]);
  });
});

describe('why a session ended', () => {
  it('a revoked session: the next calls sign out once, with reason "revoked"', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    const events = recordEvents(client);
    await client.login(ALICE);
    // Another device of the same user revokes this tab's session.
    const other = server.browser();
    await other.login(ALICE);
    expect((await other.delete(`/auth/sessions/${client.session!.id}`)).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 120)); // the revocation list syncs every 50 ms in the test server
    // Three calls in flight find out together; the app hears it once.
    const responses = await Promise.all([1, 2, 3].map(() => client.fetch(`${server.baseURL}/api/private`)));
    expect(responses.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([{ reason: 'revoked', error: expect.objectContaining({ code: 'SESSION_REVOKED' }) }]);
  });

  it('a session revoked while its access token had already expired: the refresh is refused, reason "revoked"', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    const events = recordEvents(client);
    await client.login(ALICE);
    const other = server.browser();
    await other.login(ALICE);
    expect((await other.delete(`/auth/sessions/${client.session!.id}`)).status).toBe(204);
    server.clock.advance(16 * 60_000); // past the access token's lifetime: the next call goes to /auth/refresh
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(401);
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([{ reason: 'revoked', error: expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }) }]);
  });

  it('a replayed refresh token: reason "reused"', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    const stolen = new Map(browser.jar);
    server.clock.advance(PAST_EXPIRY_MS);
    await client.refresh(); // the legitimate tab rotates the refresh token
    server.clock.advance(PAST_EXPIRY_MS + 60_000); // past the grace window

    // The thief's copy replaces the successor the legitimate tab has not used yet (the server
    // cannot tell a thief from a client whose response was lost)…
    const thief = cookieBrowser(APP_ORIGIN);
    for (const [name, cookie] of stolen) thief.jar.set(name, { ...cookie });
    await tab(thief).getUser();
    // …so the legitimate tab's next refresh presents a dead token: theft, and the session ends.
    const events = recordEvents(client);
    server.clock.advance(PAST_EXPIRY_MS);
    await expect(client.refreshUser()).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED', status: 401 });
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([{ reason: 'reused', error: expect.objectContaining({ code: 'REFRESH_TOKEN_REUSED' }) }]);
  });

  it('an expired session (refresh refused): reason "expired"', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    const events = recordEvents(client);
    await client.login(ALICE);
    server.clock.advance(8 * 86_400_000); // past the 7-day idle timeout
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(401);
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([{ reason: 'expired', error: expect.objectContaining({ code: 'REFRESH_TOKEN_INVALID' }) }]);
  });
});

describe('sessions', () => {
  it('lists, revokes another, and revoking the current one signs out', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await client.login(ALICE);
    const phone = tab(cookieBrowser(APP_ORIGIN));
    await phone.login(ALICE);

    const listed = await client.sessions();
    expect(listed).toHaveLength(2);
    expect(listed.filter((s) => s.current).map((s) => s.id)).toEqual([client.session!.id]);
    await client.revokeSession(phone.session!.id);
    expect((await client.sessions()).map((s) => s.id)).toEqual([client.session!.id]);
    await expect(client.revokeSession(phone.session!.id)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND', status: 404 });

    const events = recordEvents(client);
    await client.revokeSession(client.session!.id);
    expect(client.state).toBeNull();
    expect(events.unauthenticated).toEqual([{ reason: 'logout' }]);
  });

  it('revokeAll with a wrong password rejects and stays signed in; with the right one signs out everywhere', async () => {
    const client = tab(cookieBrowser(APP_ORIGIN));
    await client.login(ALICE);
    await expect(client.revokeAll('not my password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(client.state?.username).toBe('alice');
    await client.revokeAll(ALICE.password);
    expect(client.state).toBeNull();
    const alice = await server.gatehouse.store.findUserByUsername('alice');
    expect(await server.gatehouse.auth.listSessions(alice!.id)).toEqual([]);
  });
});

describe('guards', () => {
  it('requireUser resolves with the user or rejects with a 401 code', async () => {
    const browser = cookieBrowser(APP_ORIGIN);
    const client = tab(browser);
    await expect(client.requireUser()).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    await client.login(BOB);
    expect((await client.requireUser()).username).toBe('bob');
  });

  it('requireRole rejects with FORBIDDEN when the user lacks the role', async () => {
    const client = tab(cookieBrowser(APP_ORIGIN));
    await client.login(ALICE);
    expect((await client.requireRole('user')).username).toBe('alice');
    await expect(client.requireRole('admin')).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });
});
