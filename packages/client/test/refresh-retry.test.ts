// A refresh that gets no verdict (no answer, a lost answer, a 5xx) is tried
// again at once with a short, growing, jittered backoff, instead of waiting
// for the next 401: the browser may hold a token the server already rotated,
// and only a prompt retry stays inside the server's grace window.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN, startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { createAuthClient, type AuthClient, type UnauthenticatedEvent } from '../src/index.js';
import { AuthError } from '../src/errors.js';
import { REFRESH_RETRY, isTransientRefreshFailure, refreshRetryDelayMs, retryTransientRefresh } from '../src/refresh-retry.js';
import { cookieBrowser, type CookieBrowser } from './support/cookie-fetch.js';

describe('the retry schedule', () => {
  /** Runs `attempt` under the default policy with a recorded, instant sleep and a clock the sleeps move. */
  async function schedule(attempt: () => Promise<string>, random: () => number, attemptMs = 0) {
    let now = 0;
    const waits: number[] = [];
    const result = await retryTransientRefresh(
      async () => {
        now += attemptMs;
        return attempt();
      },
      {
        random,
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms);
          now += ms;
        },
      },
    ).catch((error: unknown) => error);
    return { result, waits };
  }

  const offline = () => Promise.reject(new AuthError('NETWORK_ERROR', 'Could not reach the server.'));

  it('tries four times in all, waiting between half and all of 0.5, 1 and 2 s', async () => {
    const shortest = await schedule(offline, () => 0);
    expect(shortest.waits).toEqual([250, 500, 1000]);
    const longest = await schedule(offline, () => 0.999_999);
    expect(longest.waits).toEqual([500, 1000, 2000]);
    expect(longest.result).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('jitters: two clients that failed together do not retry together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => refreshRetryDelayMs(1, REFRESH_RETRY)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(250);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(500);
  });

  it('stops at the first success', async () => {
    let calls = 0;
    const { result, waits } = await schedule(async () => {
      calls += 1;
      if (calls < 3) throw new AuthError('STORE_UNAVAILABLE', 'x', { status: 503 });
      return 'refreshed';
    }, () => 0);
    expect(result).toBe('refreshed');
    expect(waits).toEqual([250, 500]);
  });

  it('starts no retry later than 20 s after the first attempt: attempts that time out after 15 s get one retry', async () => {
    const { result, waits } = await schedule(offline, () => 0, 15_000);
    expect(waits).toEqual([250]);
    expect(result).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('never retries a verdict', async () => {
    for (const verdict of [
      new AuthError('REFRESH_TOKEN_REUSED', 'x', { status: 401 }),
      new AuthError('CSRF_REJECTED', 'x', { status: 403 }),
      new AuthError('BAD_RESPONSE', 'a proxy page', { status: 404 }),
      new TypeError('a bug, not the network'),
    ]) {
      const { result, waits } = await schedule(() => Promise.reject(verdict), () => 0);
      expect(result).toBe(verdict);
      expect(waits).toEqual([]);
    }
  });

  it('counts as transient: no answer, a 5xx or 408, and a 2xx whose body was lost', () => {
    expect(isTransientRefreshFailure(new AuthError('NETWORK_ERROR', 'x'))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('INTERNAL_ERROR', 'x', { status: 500 }))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('BAD_RESPONSE', 'x', { status: 502 }))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('STORE_UNAVAILABLE', 'x', { status: 503 }))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('BAD_RESPONSE', 'x', { status: 408 }))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('BAD_RESPONSE', 'cut short', { status: 200 }))).toBe(true);
    expect(isTransientRefreshFailure(new AuthError('REFRESH_TOKEN_INVALID', 'x', { status: 401 }))).toBe(false);
    expect(isTransientRefreshFailure(new AuthError('LOGIN_THROTTLED', 'x', { status: 429 }))).toBe(false);
  });

  it('stops when told to (the client was disposed during the wait)', async () => {
    let calls = 0;
    const result = await retryTransientRefresh(
      () => {
        calls += 1;
        return offline();
      },
      { sleep: async () => {}, shouldContinue: () => false },
    ).catch((error: unknown) => error);
    expect(result).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(calls).toBe(1);
  });
});

describe('a client whose refresh fails without a verdict', () => {
  type Fault = 'lose-answer' | 'bad-gateway' | 'offline';
  let server: TestServer;
  const clients: AuthClient[] = [];

  beforeEach(async () => {
    server = await startTestServer();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose();
    await server.close();
  });

  /**
   * A browser whose network breaks the next refreshes, one fault each:
   * `lose-answer` lets the server rotate and then drops its answer,
   * `bad-gateway` is a proxy answering 502 without reaching the server,
   * `offline` fails before anything is sent.
   */
  function brokenBrowser(faults: Fault[]): { browser: CookieBrowser; refreshesSent: () => number; refreshesReached: () => number } {
    let sent = 0;
    let reached = 0;
    const browser = cookieBrowser(APP_ORIGIN, {
      async transport(input, init) {
        const isRefresh = new URL(String(input)).pathname === '/auth/refresh';
        if (isRefresh) sent += 1;
        const fault = isRefresh ? faults.shift() : undefined;
        if (fault === 'offline') throw new TypeError('fetch failed');
        if (fault === 'bad-gateway') return new Response('<html>502 Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
        const response = await fetch(input, init);
        if (isRefresh) reached += 1;
        if (fault === 'lose-answer') {
          await response.arrayBuffer(); // the server finished; its answer (and new cookies) never arrive
          throw new TypeError('fetch failed: other side closed');
        }
        return response;
      },
    });
    return { browser, refreshesSent: () => sent, refreshesReached: () => reached };
  }

  async function signedInTab(browser: CookieBrowser): Promise<{ client: AuthClient; events: UnauthenticatedEvent[] }> {
    const client = createAuthClient({ baseURL: server.baseURL, fetch: browser.fetch, readCookies: browser.readCookies, refreshLeadSeconds: false });
    clients.push(client);
    const events: UnauthenticatedEvent[] = [];
    client.on('unauthenticated', (event) => events.push(event));
    await client.login(ALICE);
    server.clock.advance(310_000); // past the access token's expiry and the clock tolerance
    return { client, events };
  }

  it('a lost answer: the retry presents the same token inside the grace window, the call succeeds and nothing is taken for theft', async () => {
    const { browser, refreshesReached } = brokenBrowser(['lose-answer']);
    const { client, events } = await signedInTab(browser);
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(200);
    expect(refreshesReached()).toBe(2);
    expect(client.state?.username).toBe('alice');
    expect(events).toEqual([]);
    expect((await server.gatehouse.store.findSession(client.session!.id))?.revokedAt).toBeNull();
    expect(await server.gatehouse.store.listAudit({ type: 'refresh_token_reused' })).toEqual([]);
  });

  it('a proxy’s 502, then a dropped connection: the third attempt refreshes', async () => {
    const { browser, refreshesSent, refreshesReached } = brokenBrowser(['bad-gateway', 'offline']);
    const { client, events } = await signedInTab(browser);
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(200);
    expect([refreshesSent(), refreshesReached()]).toEqual([3, 1]);
    expect(events).toEqual([]);
  });

  it('gives up after four attempts: the call gets its 401, the user stays signed in, and the next call refreshes', async () => {
    const { browser, refreshesSent } = brokenBrowser(['offline', 'offline', 'offline', 'offline']);
    const { client, events } = await signedInTab(browser);
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(401);
    expect(refreshesSent()).toBe(4);
    expect(client.state?.username).toBe('alice'); // no verdict: the session may well be alive
    expect(events).toEqual([]);

    expect((await client.fetch(`${server.baseURL}/api/private`)).status).toBe(200);
    expect(refreshesSent()).toBe(5);
  });

  it('a refusal is a verdict: one request, signed out', async () => {
    const { browser, refreshesSent } = brokenBrowser([]);
    const { client, events } = await signedInTab(browser);
    await server.gatehouse.store.revokeSession(client.session!.id, 'admin', server.clock.now());
    const response = await client.fetch(`${server.baseURL}/api/private`);
    expect(response.status).toBe(401);
    expect(refreshesSent()).toBe(1);
    expect(client.state).toBeNull();
    expect(events.map((e) => e.reason)).toEqual(['revoked']);
  });
});
