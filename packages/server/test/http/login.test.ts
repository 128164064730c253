import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestResponse } from '../support/test-browser.js';

const WRONG = { username: 'alice', password: 'not the right passphrase' };
const UNKNOWN = { username: 'nobody-here', password: 'not the right passphrase' };

function expectInvalidCredentials(response: TestResponse): void {
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe('INVALID_CREDENTIALS');
  expect(response.setCookies).toEqual([]);
}

/** Header names and values, minus the ones that legitimately differ between two answers. */
function comparableHeaders(response: TestResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  return headers;
}

// The fastest of several tries estimates what a path costs: other work on a busy machine only
// ever adds time, so a minimum is not moved by it the way a median of a few samples is.
function fastest(values: readonly number[]): number {
  return Math.min(...values);
}

describe('login: unknown user and wrong password answer alike', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Throttling would end these comparisons early; it has its own tests below.
    server = await startTestServer({ login: { accountFreeAttempts: 100, ipFreeAttempts: 10_000 } });
  });
  afterAll(async () => {
    await server.close();
  });

  async function attempt(credentials: { username: string; password: string }): Promise<{ response: TestResponse; ms: number }> {
    const started = performance.now();
    const response = await server.browser().login(credentials);
    return { response, ms: performance.now() - started };
  }

  it('gives the same status, the same body and the same headers (date aside)', async () => {
    const wrong = (await attempt(WRONG)).response;
    const unknown = (await attempt(UNKNOWN)).response;
    expectInvalidCredentials(wrong);
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    expect(new Set(Object.keys(comparableHeaders(unknown)))).toEqual(new Set(Object.keys(comparableHeaders(wrong))));
    expect(comparableHeaders(unknown)).toEqual(comparableHeaders(wrong));
  });

  it.each(['alice!', 'a', 'аlice', ' ', 'x'.repeat(65), 'x'.repeat(256)])('answers a syntactically invalid username (%j) exactly like a wrong password', async (username) => {
    const wrong = (await attempt(WRONG)).response;
    const invalid = (await attempt({ username, password: WRONG.password })).response;
    expect(invalid.status).toBe(401);
    expect(invalid.body).toEqual(wrong.body);
    expect(comparableHeaders(invalid)).toEqual(comparableHeaders(wrong));
  });

  it('takes roughly the same time for an unknown user as for a wrong password (Argon2 runs for both)', async () => {
    await attempt(WRONG); // warm up both paths
    await attempt(UNKNOWN);
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      wrong.push((await attempt(WRONG)).ms);
      unknown.push((await attempt({ ...UNKNOWN, username: `nobody-${i}` })).ms);
    }
    const ratio = fastest(unknown) / fastest(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('normalises the username: fullwidth ＡＬＩＣＥ signs in as alice', async () => {
    const response = await server.browser().login({ username: 'ＡＬＩＣＥ', password: ALICE.password });
    expect(response.status).toBe(200);
    expect(response.body.user.username).toBe('alice');
  });

  it('refuses a look-alike with Cyrillic а (U+0430) with INVALID_CREDENTIALS, even with alice’s password', async () => {
    expectInvalidCredentials(await server.browser().login({ username: '\u0430lice', password: ALICE.password }));
  });

  it.each([129, 1024])('refuses a %i-character password with INVALID_CREDENTIALS, without hashing it', async (length) => {
    const long = ALICE.password + 'x'.repeat(length - ALICE.password.length);
    await attempt(WRONG);
    const normal: number[] = [];
    const tooLong: number[] = [];
    for (let i = 0; i < 5; i++) {
      normal.push((await attempt(WRONG)).ms);
      const { response, ms } = await attempt({ username: 'alice', password: long });
      expectInvalidCredentials(response);
      tooLong.push(ms);
    }
    // Argon2 is most of a normal attempt; one that skips it takes well under half as long.
    expect(fastest(tooLong)).toBeLessThan(fastest(normal) / 2);
  });
});

describe('login throttling', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });

  async function failFor(username: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expectInvalidCredentials(await server.browser().login({ username, password: 'wrong guess number ' + i }));
  }

  it('answers 429 LOGIN_THROTTLED with a numeric Retry-After after 5 failures, even for the correct password', async () => {
    await failFor('alice', 5);
    const response = await server.browser().login(ALICE);
    expect(response.status).toBe(429);
    expect(response.body.error.code).toBe('LOGIN_THROTTLED');
    expect(response.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(response.setCookies).toEqual([]);
  });

  it('lets the correct password in once Retry-After has passed: no permanent lockout', async () => {
    await failFor('alice', 5);
    const throttled = await server.browser().login(ALICE);
    expect(throttled.status).toBe(429);
    server.clock.advance(Number(throttled.headers.get('retry-after')) * 1000);
    expect((await server.browser().login(ALICE)).status).toBe(200);
  });

  it('doubles the wait after each further failure but never beyond 15 minutes, and then lets alice in', async () => {
    const waits: number[] = [];
    await failFor('alice', 5);
    // A patient attacker: waits out every block, then guesses again.
    for (let i = 0; i < 12; i++) {
      const throttled = await server.browser().login(WRONG);
      expect(throttled.status).toBe(429);
      waits.push(Number(throttled.headers.get('retry-after')));
      server.clock.advance(waits.at(-1)! * 1000);
      expectInvalidCredentials(await server.browser().login(WRONG));
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    const last = await server.browser().login(ALICE);
    expect(last.status).toBe(429);
    server.clock.advance(Number(last.headers.get('retry-after')) * 1000);
    expect((await server.browser().login(ALICE)).status).toBe(200);
  });

  it('throttles parallel guesses too: of 20 concurrent wrong passwords at most 5 are checked', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => server.browser().login({ username: 'alice', password: `parallel guess ${i}` })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
  });

  it('records throttled attempts in the audit log (login_throttled)', async () => {
    await failFor('alice', 5);
    expect((await server.browser().login(ALICE)).status).toBe(429);
    const events = await server.gatehouse.store.listAudit({ type: 'login_throttled' });
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ username: 'alice' });
  });

  it('records a sign-in (login_succeeded) with the session it opened, written with that session', async () => {
    const login = await server.browser().login(ALICE);
    expect(login.status).toBe(200);
    const alice = await server.gatehouse.auth.findUser('alice');
    const [session] = await server.gatehouse.auth.listSessions(alice.id);
    expect(await server.gatehouse.store.listAudit({ type: 'login_succeeded' })).toMatchObject([
      { userId: alice.id, sessionId: session!.id, ip: session!.ip, at: session!.createdAt },
    ]);
  });
});

describe('login throttling per client IP', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ login: { ipFreeAttempts: 3 } });
  });
  afterEach(async () => {
    await server.close();
  });

  it('does not count successful logins against the IP', async () => {
    for (let i = 0; i < 5; i++) expect((await server.browser().login(ALICE)).status).toBe(200);
    expectInvalidCredentials(await server.browser().login(UNKNOWN));
  });

  it('does not believe X-Forwarded-For without a configured proxy: rotating it does not escape the IP limit', async () => {
    for (let i = 1; i <= 3; i++) {
      const response = await server.browser().post('/auth/login', { json: { username: `nobody-${i}`, password: 'some guess or other' }, headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      expectInvalidCredentials(response);
    }
    const response = await server.browser().post('/auth/login', { json: ALICE, headers: { 'x-forwarded-for': '203.0.113.99' } });
    expect(response.status).toBe(429);
    expect(response.body.error.code).toBe('LOGIN_THROTTLED');
  });

  it('throttles parallel guesses across usernames: of 10 concurrent attempts at most 3 are checked', async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => server.browser().login({ username: `nobody-${i}`, password: 'some guess or other' })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
  });

  it('throttles an IP that guesses across many usernames, then lets it in after Retry-After', async () => {
    for (const username of ['nobody-1', 'nobody-2', 'nobody-3']) {
      expectInvalidCredentials(await server.browser().login({ username, password: 'some guess or other' }));
    }
    const response = await server.browser().login(ALICE); // another account, the right password
    expect(response.status).toBe(429);
    expect(response.body.error.code).toBe('LOGIN_THROTTLED');
    server.clock.advance(Number(response.headers.get('retry-after')) * 1000);
    expect((await server.browser().login(ALICE)).status).toBe(200);
  });
});

describe('login throttling per client IP behind a trusted proxy', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ trustProxy: ['127.0.0.1'], login: { ipFreeAttempts: 3 } });
  });
  afterEach(async () => {
    await server.close();
  });

  const from = (ip: string, credentials: { username: string; password: string }) =>
    server.browser().post('/auth/login', { json: credentials, headers: { 'x-forwarded-for': ip } });

  it('throttles the client the proxy names, not the proxy', async () => {
    for (let i = 1; i <= 3; i++) expectInvalidCredentials(await from('203.0.113.7', { username: `nobody-${i}`, password: 'some guess or other' }));
    expect((await from('203.0.113.7', ALICE)).status).toBe(429);
    expect((await from('203.0.113.8', ALICE)).status).toBe(200);
  });

  it('throttles a whole IPv6 /64, so one host cannot rotate through its 2^64 addresses', async () => {
    for (const ip of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2:0:0:0:c']) {
      expectInvalidCredentials(await from(ip, { username: 'nobody-here', password: 'some guess or other' }));
    }
    const sameNetwork = await from('2001:DB8:1:2:ffff:ffff:ffff:1', ALICE);
    expect(sameNetwork.status).toBe(429);
    expect(sameNetwork.body.error.code).toBe('LOGIN_THROTTLED');
    expect((await from('2001:db8:1:3::1', ALICE)).status).toBe(200);
  });
});
