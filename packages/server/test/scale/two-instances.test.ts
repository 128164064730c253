import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCLI, startInstance, type InstanceProcess, type LogLine } from '../support/instance-process.js';
import { freshSchema, requirePostgres, TEST_DATABASE_URL, type TestSchema } from '../support/postgres.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { startTCPProxy, type TCPProxy } from '../support/tcp-proxy.js';
import { TestBrowser, type TestResponse } from '../support/test-browser.js';

/**
 * The scale-out proof with real processes: two Gatehouse instances (A and B)
 * on their own ports, sharing one PostgreSQL schema and one Redis (a
 * redis-server of this test's own, so it can be killed). B reaches PostgreSQL
 * through a TCP proxy the test can cut. The instances poll the store only
 * every 10 s while the feed is live, so a revocation that arrives within
 * 100 ms arrived through Redis.
 *
 * `npm test` builds first; when running this file alone, run `npx tsc -b packages/server` before.
 */

const ORIGIN = 'http://localhost:8080';
const SECRET = `scale-test-secret-${randomBytes(24).toString('base64url')}`;
const ALICE = { username: 'alice', password: 'correct horse battery staple' };
const BOB = { username: 'bob', password: 'another long passphrase' };
const CAROL = { username: 'carol', password: 'a third long passphrase' };
/** The bound the issue sets for a revocation to reach every instance. */
const FEED_BOUND_MS = 100;
/** revocation.maxStalenessSeconds for both instances: short, so the fail-closed case is quick to reach. */
const MAX_STALENESS_SECONDS = 2;

let dir: string;
let redis: TestRedis;
let database: TestSchema;
let proxyForB: TCPProxy;
let env: Record<string, string>;
let a: InstanceProcess;
let b: InstanceProcess;

beforeAll(async () => {
  await requirePostgres();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-scale-'));
  redis = await startRedisServer();
  database = freshSchema();
  const postgres = new URL(TEST_DATABASE_URL);
  proxyForB = await startTCPProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
  const viaProxy = new URL(TEST_DATABASE_URL);
  viaProxy.host = `127.0.0.1:${proxyForB.port}`;
  env = {
    GATEHOUSE_SECRET: SECRET,
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_DATABASE_URL: database.url,
    GATEHOUSE_DATABASE_SCHEMA: database.schema,
    GATEHOUSE_PUBLIC_ORIGIN: ORIGIN,
    GATEHOUSE_REDIS_URL: redis.url,
    GATEHOUSE_REDIS_KEY_PREFIX: `gh-scale-${randomBytes(6).toString('hex')}:`,
    GATEHOUSE_REVOCATION_MAX_STALENESS_SECONDS: String(MAX_STALENESS_SECONDS),
    GATEHOUSE_LOG_LEVEL: 'info',
    FIXTURE_SYNC_INTERVAL_MS: '10000',
  };
  for (const user of [ALICE, BOB, CAROL]) await runCLI(['user', 'add', user.username, '--password-stdin'], env, `${user.password}\n`);
  [a, b] = await Promise.all([startInstance('A', env), startInstance('B', { ...env, GATEHOUSE_DATABASE_URL: viaProxy.toString() })]);
  await Promise.all([a, b].map((instance) => instance.waitForLog(isFeedLive)));
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
  await proxyForB?.close();
  await database?.drop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const isFeedLive = (line: LogLine): boolean => line.msg?.startsWith('revocation feed live') === true;

/** A browser on `instance`. */
function browserOn(instance: InstanceProcess): TestBrowser {
  return new TestBrowser(instance.baseURL, ORIGIN);
}

/** The same browser (its cookies) talking to another instance, as a load balancer would send it. */
function moveTo(browser: TestBrowser, instance: InstanceProcess): TestBrowser {
  const moved = browserOn(instance);
  for (const [name, cookie] of browser.jar) moved.jar.set(name, { ...cookie });
  return moved;
}

/** The access token as a bearer token on `instance`: no cookies at all. */
function bearerOn(instance: InstanceProcess, browser: TestBrowser): () => Promise<TestResponse> {
  const token = browser.cookie('__Host-gh_access');
  if (token === undefined) throw new Error('no access cookie');
  return () => new TestBrowser(instance.baseURL, null).get('/api/private', { headers: { authorization: `Bearer ${token}` } });
}

/** Asks until the answer is 401 `code`; returns the milliseconds since `since`. Every answer before must be 200. */
async function msUntilRevoked(ask: () => Promise<TestResponse>, since: number, code = 'SESSION_REVOKED', giveUpMs = 5_000): Promise<number> {
  for (;;) {
    const response = await ask();
    const elapsed = performance.now() - since;
    if (response.status === 401) {
      expect(response.body.error.code).toBe(code);
      return elapsed;
    }
    expect(response.status).toBe(200);
    if (elapsed > giveUpMs) throw new Error(`still accepted ${Math.round(elapsed)} ms after the revocation`);
  }
}

/** Redis is back for sign-in once the instance's command connection has reconnected (it retries every 0.1–1 s). */
async function waitUntilSignInWorks(instance: InstanceProcess): Promise<void> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const response = await browserOn(instance).login(ALICE);
    if (response.status === 200) return;
    expect(response.body.error.code).toBe('THROTTLE_UNAVAILABLE');
    if (performance.now() > deadline) throw new Error(`${instance.name}: sign-in still unavailable 15 s after Redis returned`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function signIn(instance: InstanceProcess, credentials: { username: string; password: string }): Promise<{ browser: TestBrowser; sessionId: string }> {
  const browser = browserOn(instance);
  const login = await browser.login(credentials);
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return { browser, sessionId: login.body.session.id as string };
}

/**
 * Signs alice in on both, revokes the session on `observer` from the one on
 * `revoker` (`DELETE /auth/sessions/:id`), and measures from `revoker`'s answer
 * until `observer` refuses the revoked access token. Three rounds.
 */
async function revocationLatencies(revoker: InstanceProcess, observer: InstanceProcess): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const laptop = await signIn(revoker, ALICE);
    const phone = await signIn(observer, ALICE);
    const phoneOnObserver = bearerOn(observer, phone.browser);
    expect((await phoneOnObserver()).status).toBe(200);
    const revoke = await laptop.browser.delete(`/auth/sessions/${phone.sessionId}`);
    const revokedAt = performance.now();
    expect(revoke.status).toBe(204);
    samples.push(await msUntilRevoked(phoneOnObserver, revokedAt));
  }
  return samples;
}

/**
 * Each sample is an upper bound that includes one HTTP round trip to the
 * observer. The median must be within the 100 ms; a single sample may
 * take longer (a GC pause or a busy core on a shared 2-core machine), up to 250 ms.
 */
function expectWithinFeedBound(samples: readonly number[], direction: string): void {
  const sorted = [...samples].sort((x, y) => x - y);
  const shown = `${direction}: ${samples.map((ms) => ms.toFixed(1)).join(', ')} ms`;
  expect(sorted[1], shown).toBeLessThanOrEqual(FEED_BOUND_MS);
  expect(sorted[2], shown).toBeLessThanOrEqual(250);
}

describe('two instances sharing one database and one Redis', () => {
  it('a session opened on A is refreshed on B and works on both', async () => {
    const { browser } = await signIn(a, ALICE);
    const onB = moveTo(browser, b);
    const refresh = await onB.post('/auth/refresh');
    expect(refresh.status).toBe(200);
    expect((await onB.get('/api/private')).status).toBe(200);
    expect((await moveTo(onB, a).get('/api/private')).status).toBe(200);
  });

  it(`a session revoked on A is refused on B within ${FEED_BOUND_MS} ms, and the other way round (through the Redis feed: the store is polled only every 10 s)`, async () => {
    const aToB = await revocationLatencies(a, b);
    const bToA = await revocationLatencies(b, a);
    expectWithinFeedBound(aToB, 'A → B');
    expectWithinFeedBound(bToA, 'B → A');
  });

  it(`a revocation by the CLI (gatehouse session revoke --user, configured with the same Redis) is refused on A and B within ${FEED_BOUND_MS} ms of the command's exit`, async () => {
    const onA = await signIn(a, CAROL);
    const onB = await signIn(b, CAROL);
    const askA = bearerOn(a, onA.browser);
    const askB = bearerOn(b, onB.browser);
    expect((await askA()).status).toBe(200);
    expect((await askB()).status).toBe(200);
    await runCLI(['session', 'revoke', '--user', CAROL.username], env);
    const exitedAt = performance.now();
    const [fromA, fromB] = await Promise.all([msUntilRevoked(askA, exitedAt), msUntilRevoked(askB, exitedAt)]);
    expect(fromA, `A: ${fromA.toFixed(1)} ms`).toBeLessThanOrEqual(FEED_BOUND_MS);
    expect(fromB, `B: ${fromB.toFixed(1)} ms`).toBeLessThanOrEqual(FEED_BOUND_MS);
  });

  it(`a role removed by the CLI (gatehouse user roles --remove, same Redis) is refused on A and B within ${FEED_BOUND_MS} ms of the command's exit; a refresh brings the new roles`, async () => {
    await runCLI(['user', 'roles', CAROL.username, '--set', 'admin', '--set', 'user'], env);
    const onA = await signIn(a, CAROL);
    const onB = await signIn(b, CAROL);
    const askA = bearerOn(a, onA.browser);
    const askB = bearerOn(b, onB.browser);
    for (const ask of [askA, askB]) expect((await ask()).body.auth.user.roles).toEqual(['admin', 'user']);
    await runCLI(['user', 'roles', CAROL.username, '--remove', 'admin'], env);
    const exitedAt = performance.now();
    const [fromA, fromB] = await Promise.all([msUntilRevoked(askA, exitedAt, 'TOKEN_EXPIRED'), msUntilRevoked(askB, exitedAt, 'TOKEN_EXPIRED')]);
    expect(fromA, `A: ${fromA.toFixed(1)} ms`).toBeLessThanOrEqual(FEED_BOUND_MS);
    expect(fromB, `B: ${fromB.toFixed(1)} ms`).toBeLessThanOrEqual(FEED_BOUND_MS);
    // The session lives on: a refresh on the other instance brings a token with the new roles.
    const moved = moveTo(onA.browser, b);
    const refreshed = await moved.post('/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user.roles).toEqual(['user']);
    expect((await moved.get('/api/private')).body.auth.user.roles).toEqual(['user']);
  });

  it('counts failed logins across both: of 50 simultaneous wrong passwords for bob, spread over A and B, only the free 5 are checked', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => browserOn(i % 2 === 0 ? a : b).login({ username: BOB.username, password: `wrong guess number ${i}` })),
    );
    const seconds = (performance.now() - started) / 1000;
    const checked = answers.filter((response) => response.body.error.code === 'INVALID_CREDENTIALS').length;
    const throttled = answers.filter((response) => response.body.error.code === 'LOGIN_THROTTLED');
    expect(checked + throttled.length, JSON.stringify(answers.map((response) => response.body.error.code))).toBe(50);
    // Five free attempts; after that the waits are 1 s, 2 s, 4 s …, so a burst that lasted
    // `seconds` can earn k more only if 2^k - 1 <= seconds. On a quick machine that is none.
    const earned = Math.floor(Math.log2(1 + seconds));
    expect(checked, `${checked} passwords checked in a burst of ${seconds.toFixed(2)} s`).toBeGreaterThanOrEqual(5);
    expect(checked, `${checked} passwords checked in a burst of ${seconds.toFixed(2)} s`).toBeLessThanOrEqual(5 + earned);
    for (const response of throttled) expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  describe('Redis killed mid-test', () => {
    let survivor: { browser: TestBrowser; sessionId: string };
    let victim: { browser: TestBrowser; sessionId: string };
    /** Log lengths of A and B when Redis was killed. */
    let killedAt: [number, number];

    beforeAll(async () => {
      survivor = await signIn(a, CAROL);
      victim = await signIn(b, CAROL);
      const fromA = a.logs.length;
      const fromB = b.logs.length;
      killedAt = [fromA, fromB];
      await redis.kill();
      // Both instances have noticed (the connection was reset), so what follows is the outage, not a race with it.
      await Promise.all([
        a.waitForLog((line) => line.msg === 'revocation feed down: reading the store every 50 ms until it is back', { from: fromA }),
        b.waitForLog((line) => line.msg === 'revocation feed down: reading the store every 50 ms until it is back', { from: fromB }),
      ]);
    });

    it('sign-in fails closed on both: 503 THROTTLE_UNAVAILABLE, even with the right password, and no password is checked', async () => {
      for (const instance of [a, b]) {
        const response = await browserOn(instance).login(ALICE);
        expect(response.status).toBe(503);
        expect(response.body.error.code).toBe('THROTTLE_UNAVAILABLE');
        expect(response.setCookies).toEqual([]);
      }
    });

    it('sessions that were not revoked keep working and refresh, on both', async () => {
      expect((await survivor.browser.get('/api/private')).status).toBe(200);
      const onB = moveTo(survivor.browser, b);
      expect((await onB.post('/auth/refresh')).status).toBe(200);
      expect((await onB.get('/api/private')).status).toBe(200);
    });

    it('a revocation on A still reaches B, through the store (polled every 50 ms while the feed is down)', async () => {
      const victimOnB = bearerOn(b, victim.browser);
      expect((await victimOnB()).status).toBe(200);
      const revoke = await survivor.browser.delete(`/auth/sessions/${victim.sessionId}`);
      const revokedAt = performance.now();
      expect(revoke.status).toBe(204);
      const elapsed = await msUntilRevoked(victimOnB, revokedAt);
      // The documented bound is the 50 ms poll plus one store read; the slack is for a loaded machine.
      expect(elapsed, `refused on B ${elapsed.toFixed(1)} ms after A answered`).toBeLessThanOrEqual(1_000);
    });

    it('recovers when Redis returns: each instance catches up from the store, then the feed is trusted again', async () => {
      await redis.restart();
      await Promise.all([a.waitForLog(isFeedLive, { from: killedAt[0], timeoutMs: 15_000 }), b.waitForLog(isFeedLive, { from: killedAt[1], timeoutMs: 15_000 })]);
      await waitUntilSignInWorks(a);
      await waitUntilSignInWorks(b);
      expectWithinFeedBound(await revocationLatencies(b, a), 'B → A after the outage');
    });
  });

  describe(`Redis down and B cut off from PostgreSQL: B fails closed after revocation.maxStalenessSeconds (${MAX_STALENESS_SECONDS} s)`, () => {
    let revoked: { browser: TestBrowser; sessionId: string };
    let kept: { browser: TestBrowser; sessionId: string };

    beforeAll(async () => {
      revoked = await signIn(b, CAROL);
      kept = await signIn(b, CAROL);
      const fromB = b.logs.length;
      await redis.kill();
      await b.waitForLog((line) => line.msg === 'revocation feed down: reading the store every 50 ms until it is back', { from: fromB });
    });

    it('B refuses every access token with 503 REVOCATION_UNAVAILABLE once its list is older than the limit, so a revocation it cannot hear of is not honoured for longer', async () => {
      const revokedOnB = bearerOn(b, revoked.browser);
      const keptOnB = bearerOn(b, kept.browser);
      proxyForB.setMode('reset');
      const cutAt = performance.now();
      // A can still write: the revocation is in the store, and B can learn of it neither from Redis nor from the store.
      const revoke = await moveTo(kept.browser, a).delete(`/auth/sessions/${revoked.sessionId}`);
      expect(revoke.status, JSON.stringify(revoke.body)).toBe(204);
      let answer: TestResponse;
      for (;;) {
        answer = await revokedOnB();
        if (answer.status !== 200) break;
        expect(performance.now() - cutAt, 'B accepted the revoked token past the staleness limit').toBeLessThan(MAX_STALENESS_SECONDS * 1000 + 2_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('REVOCATION_UNAVAILABLE');
      // Every token, not only the revoked one: B cannot tell them apart any more. Cookies are kept (the session may be fine).
      const keptAnswer = await keptOnB();
      expect(keptAnswer.status).toBe(503);
      expect(keptAnswer.body.error.code).toBe('REVOCATION_UNAVAILABLE');
      const withCookies = await moveTo(kept.browser, b).get('/api/private');
      expect(withCookies.status).toBe(503);
      expect(withCookies.setCookies).toEqual([]);
    });

    it('B recovers once PostgreSQL is back: it reads what it missed, refuses the revoked session and serves the other', async () => {
      proxyForB.setMode('forward');
      const revokedOnB = bearerOn(b, revoked.browser);
      const keptOnB = bearerOn(b, kept.browser);
      const deadline = performance.now() + 10_000;
      let answer = await revokedOnB();
      while (answer.status === 503 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await revokedOnB();
      }
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('SESSION_REVOKED');
      expect((await keptOnB()).status).toBe(200);
    });

    it('and the feed is live again once Redis returns', async () => {
      const fromA = a.logs.length;
      const fromB = b.logs.length;
      await redis.restart();
      await Promise.all([a.waitForLog(isFeedLive, { from: fromA, timeoutMs: 15_000 }), b.waitForLog(isFeedLive, { from: fromB, timeoutMs: 15_000 })]);
      await waitUntilSignInWorks(a);
      await waitUntilSignInWorks(b);
      expectWithinFeedBound(await revocationLatencies(a, b), 'A → B after both outages');
    });
  });
});
