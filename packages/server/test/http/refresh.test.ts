import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';

const ACCESS = '__Host-gh_access';
const REFRESH = '__Secure-gh_refresh';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** Past the 5-minute access token and its 5-second leeway. */
const ACCESS_TOKEN_EXPIRY = 5 * MINUTE + 6 * SECOND;

function setCookie(response: TestResponse, name: string): string | undefined {
  return response.setCookies.find((c) => c.name === name)?.value;
}

function expectError(response: TestResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
}

describe('refresh token rotation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  async function signedIn(credentials: { username: string; password: string } = ALICE): Promise<{ browser: TestBrowser; sessionId: string }> {
    const browser = server.browser();
    const login = await browser.login(credentials);
    expect(login.status).toBe(200);
    return { browser, sessionId: login.body.session.id };
  }

  describe('reuse detection', () => {
    it('revokes the whole session when a rotated token comes back after its successor was used', async () => {
      const { browser } = await signedIn();
      const thief = browser.fork(); // holds the original refresh token
      expect((await browser.post('/auth/refresh')).status).toBe(200);
      server.clock.advance(11 * SECOND);
      expect((await browser.post('/auth/refresh')).status).toBe(200); // the successor is used: the chain moved on
      const legitimateAccess = browser.cookie(ACCESS)!;
      const legitimateRefresh = browser.fork(); // keeps the live token even after the server clears cookies

      expectError(await thief.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REUSED');

      // The legitimate holder's fresh access token dies with the session, as cookie and as bearer…
      expectError(await browser.get('/api/private'), 401, 'SESSION_REVOKED');
      const bearer = await server.browser({ origin: null }).get('/api/private', { headers: { authorization: `Bearer ${legitimateAccess}` } });
      expectError(bearer, 401, 'SESSION_REVOKED');
      // …and so does its refresh token.
      expectError(await legitimateRefresh.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REVOKED');
    });

    it('records a refresh_token_reused audit event for the session', async () => {
      const { browser, sessionId } = await signedIn();
      const thief = browser.fork();
      await browser.post('/auth/refresh');
      await browser.post('/auth/refresh');
      server.clock.advance(11 * SECOND);
      await thief.post('/auth/refresh');
      const events = await server.gatehouse.store.listAudit({ type: 'refresh_token_reused' });
      expect(events.filter((e) => e.sessionId === sessionId)).toHaveLength(1);
    });

    it('treats a rotated token as theft even when the access token is still fresh', async () => {
      const { browser } = await signedIn();
      const thief = browser.fork();
      await browser.post('/auth/refresh');
      server.clock.advance(11 * SECOND);
      await browser.post('/auth/refresh');
      const thiefKeepsCookies = thief.fork(); // a thief ignores the Set-Cookie that clears them
      expectError(await thief.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REUSED');
      expectError(await thiefKeepsCookies.get('/api/private'), 401, 'SESSION_REVOKED');
    });
  });

  describe('a lost refresh response', () => {
    it('a client retrying after the grace window with the token it still holds stays signed in', async () => {
      const { browser, sessionId } = await signedIn();
      const retrying = browser.fork(); // the response below never reaches this client
      const lost = await browser.post('/auth/refresh');
      expect(lost.status).toBe(200);
      server.clock.advance(30 * SECOND);

      const retry = await retrying.post('/auth/refresh');
      expect(retry.status).toBe(200);
      expect(setCookie(retry, REFRESH)).not.toBe(setCookie(lost, REFRESH));
      expect((await retrying.get('/api/private')).status).toBe(200);
      expect((await retrying.post('/auth/refresh')).status).toBe(200);
      const reuses = await server.gatehouse.store.listAudit({ type: 'refresh_token_reused' });
      expect(reuses.filter((e) => e.sessionId === sessionId)).toEqual([]);
      const replaced = await server.gatehouse.store.listAudit({ type: 'refresh' });
      expect(replaced.filter((e) => e.sessionId === sessionId && e.detail?.['replacement'] === true)).toHaveLength(1);
    });

    it('a thief who refreshed first loses: the victim retries and stays signed in, the thief\'s next refresh ends the session', async () => {
      const { browser } = await signedIn();
      const thief = browser.fork();
      expect((await thief.post('/auth/refresh')).status).toBe(200); // the thief's successor is never used
      server.clock.advance(30 * SECOND);
      expect((await browser.post('/auth/refresh')).status).toBe(200); // the victim's token replaces it
      expect((await browser.get('/api/private')).status).toBe(200);

      expectError(await thief.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REUSED');
      expectError(await browser.get('/api/private'), 401, 'SESSION_REVOKED');
    });

    it('a thief who refreshed first and used the successor: the victim\'s token is reuse and ends the session', async () => {
      const { browser } = await signedIn();
      const thief = browser.fork();
      expect((await thief.post('/auth/refresh')).status).toBe(200);
      server.clock.advance(11 * SECOND);
      expect((await thief.post('/auth/refresh')).status).toBe(200);
      expectError(await browser.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REUSED');
      expectError(await thief.get('/api/private'), 401, 'SESSION_REVOKED');
    });

    it('replaces only once: the same token a third time, after another grace window, is reuse', async () => {
      const { browser } = await signedIn();
      const retrying = browser.fork();
      const again = browser.fork();
      await browser.post('/auth/refresh');
      server.clock.advance(11 * SECOND);
      expect((await retrying.post('/auth/refresh')).status).toBe(200);
      server.clock.advance(11 * SECOND);
      expectError(await again.post('/auth/refresh'), 401, 'REFRESH_TOKEN_REUSED');
    });
  });

  describe('concurrency and the grace window', () => {
    it('answers 10 parallel refreshes of one token with the same successor and keeps the session alive', async () => {
      const { browser, sessionId } = await signedIn();
      const original = browser.cookie(REFRESH);
      server.clock.advance(ACCESS_TOKEN_EXPIRY); // the moment every open tab refreshes at once
      const tabs = Array.from({ length: 10 }, () => browser.fork());
      const responses = await Promise.all(tabs.map((tab) => tab.post('/auth/refresh')));

      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(responses.map((r) => r.body.session.id)).toEqual(Array(10).fill(sessionId));
      const successors = new Set(responses.map((r) => setCookie(r, REFRESH)));
      expect(successors.size).toBe(1);
      expect([...successors][0]).not.toBe(original);

      expect((await tabs[0]!.get('/api/private')).status).toBe(200);
      expect((await tabs[9]!.post('/auth/refresh')).status).toBe(200); // the successor rotates normally
      expect((await tabs[9]!.get('/api/private')).status).toBe(200);
      const reuses = await server.gatehouse.store.listAudit({ type: 'refresh_token_reused' });
      expect(reuses.filter((e) => e.sessionId === sessionId)).toEqual([]);
    });

    it('gives the old token the live successor within the grace window (5 s later)', async () => {
      const { browser } = await signedIn();
      const otherTab = browser.fork();
      const first = await browser.post('/auth/refresh');
      server.clock.advance(5 * SECOND);
      const late = await otherTab.post('/auth/refresh');
      expect(late.status).toBe(200);
      expect(setCookie(late, REFRESH)).toBe(setCookie(first, REFRESH));
      expect((await otherTab.get('/api/private')).status).toBe(200);
      expect((await browser.post('/auth/refresh')).status).toBe(200);
    });
  });

  describe('timeouts', () => {
    it('refuses a refresh after 7 idle days (REFRESH_TOKEN_INVALID); one second earlier it works', async () => {
      const { browser: idle } = await signedIn();
      const { browser: active } = await signedIn();
      server.clock.advance(7 * DAY - SECOND);
      expect((await active.post('/auth/refresh')).status).toBe(200);
      server.clock.advance(2 * SECOND);
      expectError(await idle.post('/auth/refresh'), 401, 'REFRESH_TOKEN_INVALID');
    });

    it('ends the session at 30 days however often it is refreshed; rotation never extends the absolute lifetime', async () => {
      const loginAt = server.clock.now();
      const { browser } = await signedIn();
      const absoluteEnd = loginAt + 30 * DAY;
      for (let day = 6; day <= 24; day += 6) {
        server.clock.advance(6 * DAY);
        const refreshed = await browser.post('/auth/refresh');
        expect(refreshed.status).toBe(200);
        expect(Date.parse(refreshed.body.session.expiresAt)).toBeLessThanOrEqual(absoluteEnd);
        const maxAge = Number(refreshed.setCookies.find((c) => c.name === REFRESH)?.attributes.get('max-age'));
        expect(maxAge * SECOND).toBeLessThanOrEqual(absoluteEnd - server.clock.now());
      }
      // Day 24 + 6 = day 30: the idle timeout alone would allow this refresh (last one was 6 days ago).
      server.clock.advance(6 * DAY);
      expectError(await browser.post('/auth/refresh'), 401, 'REFRESH_TOKEN_INVALID');
    });
  });

  describe('what a refresh needs', () => {
    it('refuses a refresh without the refresh cookie (401 REFRESH_TOKEN_INVALID)', async () => {
      const { browser } = await signedIn();
      browser.jar.delete(REFRESH);
      expectError(await browser.post('/auth/refresh'), 401, 'REFRESH_TOKEN_INVALID');
    });

    it('refuses a refresh with a garbled refresh cookie (401 REFRESH_TOKEN_INVALID)', async () => {
      const { browser } = await signedIn();
      browser.jar.set(REFRESH, { value: `ghr_${'A'.repeat(43)}`, path: '/auth' });
      expectError(await browser.post('/auth/refresh'), 401, 'REFRESH_TOKEN_INVALID');
    });

    it('refuses a refresh without the XSRF header (403) and does not consume the token', async () => {
      const { browser } = await signedIn();
      expectError(await browser.post('/auth/refresh', { xsrf: false }), 403, 'CSRF_REJECTED');
      // Past the grace window: had the refused call rotated the token, this retry would be reuse.
      server.clock.advance(11 * SECOND);
      const retry = await browser.post('/auth/refresh');
      expect(retry.status).toBe(200);
    });

    it('refuses a refresh whose XSRF header is another session’s token (403) and does not consume the token', async () => {
      const { browser } = await signedIn();
      const { browser: bob } = await signedIn(BOB);
      const foreign = bob.cookie('XSRF-TOKEN')!;
      expectError(await browser.post('/auth/refresh', { headers: { 'x-xsrf-token': foreign } }), 403, 'CSRF_REJECTED');
      server.clock.advance(11 * SECOND);
      expect((await browser.post('/auth/refresh')).status).toBe(200);
    });

    it('refuses a refresh from a foreign Origin (403) and does not consume the token', async () => {
      const { browser } = await signedIn();
      expectError(await browser.fork({ origin: 'https://evil.example' }).post('/auth/refresh'), 403, 'ORIGIN_REJECTED');
      server.clock.advance(11 * SECOND);
      expect((await browser.post('/auth/refresh')).status).toBe(200);
    });
  });
});

describe('transparent refresh (guard option, refresh cookie on Path=/)', () => {
  let server: TestServer;
  const ROOT_REFRESH = '__Host-gh_refresh';
  beforeAll(async () => {
    server = await startTestServer({ cookies: { refreshPath: '/' } });
  });
  afterAll(async () => {
    await server.close();
  });

  async function expiredSession(): Promise<TestBrowser> {
    const browser = server.browser();
    const login = await browser.login(ALICE);
    expect(login.setCookies.find((c) => c.name === ROOT_REFRESH)?.attributes.get('path')).toBe('/');
    server.clock.advance(ACCESS_TOKEN_EXPIRY);
    return browser;
  }

  it('refreshes inline on an expired access token: 200 with new access and refresh cookies', async () => {
    const browser = await expiredSession();
    const oldAccess = browser.cookie(ACCESS);
    const oldRefresh = browser.cookie(ROOT_REFRESH);
    const response = await browser.get('/api/transparent');
    expect(response.status).toBe(200);
    expect(response.body.auth.user.username).toBe('alice');
    const access = setCookie(response, ACCESS);
    const refresh = setCookie(response, ROOT_REFRESH);
    expect(access).toBeDefined();
    expect(access).not.toBe(oldAccess);
    expect(refresh).toBeDefined();
    expect(refresh).not.toBe(oldRefresh);
    expect((await browser.get('/api/private')).status).toBe(200); // the new access token works everywhere
  });

  it('leaves the default guard answering 401 TOKEN_EXPIRED, rotating nothing', async () => {
    const browser = await expiredSession();
    const response = await browser.get('/api/private');
    expectError(response, 401, 'TOKEN_EXPIRED');
    expect(response.setCookies).toEqual([]);
  });

  it('needs the CSRF token for an unsafe inline refresh and does not consume the refresh token without it', async () => {
    const browser = await expiredSession();
    expectError(await browser.post('/api/transparent', { xsrf: false }), 403, 'CSRF_REJECTED');
    server.clock.advance(11 * SECOND);
    const response = await browser.post('/api/transparent');
    expect(response.status).toBe(200);
    expect(setCookie(response, ACCESS)).toBeDefined();
  });
});

describe('refresh with a tossed duplicate cookie', () => {
  it('refuses when a second refresh cookie of the same name is present, and consumes nothing', async () => {
    const { startTestServer, ALICE } = await import('../support/test-server.js');
    const server = await startTestServer();
    try {
      const victim = server.browser();
      await victim.login(ALICE);
      const attacker = server.browser();
      await attacker.login({ username: 'bob', password: 'another long passphrase' });
      const planted = `__Secure-gh_refresh=${attacker.cookie('__Secure-gh_refresh')}`;
      const refused = await victim.post('/auth/refresh', { headers: { cookie: `${planted}; ${victim.cookieHeader('/auth/refresh')}` } });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('REFRESH_TOKEN_INVALID');
      server.clock.advance(20_000);
      expect((await attacker.post('/auth/refresh')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
