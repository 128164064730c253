/**
 * Sign-in while PostgreSQL is away, over real HTTP, with the throttle in memory
 * and in a real Redis. Gatehouse reaches the shared database through a TCP
 * proxy this test cuts. An attempt the store could not judge must count
 * nothing, and a throttled sign-in must stay a 429 with `Retry-After`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ALICE, BOB, startTestServer, type TestServer } from '../support/test-server.js';
import { freshSchema, requirePostgres, type TestSchema } from '../support/postgres.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { startTCPProxy, type TCPProxy } from '../support/tcp-proxy.js';

/** Small limits, so a handful of attempts crosses both the account's and the IP's. */
const LOGIN = { accountFreeAttempts: 3, ipFreeAttempts: 5, maxDelaySeconds: 900, failureWindowSeconds: 3600 };
const WRONG = { username: ALICE.username, password: 'not the password at all' };

let redis: TestRedis;
beforeAll(async () => {
  await requirePostgres();
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

const THROTTLES: { readonly name: string; readonly config: () => ConfigInput }[] = [
  { name: 'throttle in memory', config: () => ({}) },
  { name: 'throttle in Redis', config: () => ({ redis: { url: redis.url, keyPrefix: `gh-test-${randomBytes(6).toString('hex')}:` } }) },
];

describe.each(THROTTLES)('sign-in while PostgreSQL is unreachable ($name)', ({ config }) => {
  let schema: TestSchema;
  let proxy: TCPProxy;
  let server: TestServer;

  beforeEach(async () => {
    schema = freshSchema();
    const target = new URL(schema.url);
    proxy = await startTCPProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL(schema.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    server = await startTestServer({ database: { url: url.toString(), schema: schema.schema, timeoutSeconds: 2 }, login: LOGIN, ...config() });
  });
  afterEach(async () => {
    proxy.setMode('forward');
    await server.close();
    await proxy.close();
    await schema.drop();
  });

  it('attempts answered 503 count nothing: afterwards the right password signs in, from the same IP', async () => {
    proxy.setMode('reset');
    // More than both the account's (3) and the IP's (5) free attempts, by two users.
    for (const credentials of [ALICE, ALICE, ALICE, ALICE, BOB, BOB, BOB, ALICE]) {
      const response = await server.browser().login(credentials);
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('STORE_UNAVAILABLE');
    }
    proxy.setMode('forward');
    expect((await server.browser().login(ALICE)).status).toBe(200);
    expect((await server.browser().login(BOB)).status).toBe(200);
  });

  it('taking back the unjudged attempts leaves the wrong passwords checked around them counted', async () => {
    expect((await server.browser().login(WRONG)).status).toBe(401);
    proxy.setMode('reset');
    for (let i = 0; i < 4; i++) expect((await server.browser().login(ALICE)).status).toBe(503);
    proxy.setMode('forward');
    expect((await server.browser().login(WRONG)).status).toBe(401);
    expect((await server.browser().login(WRONG)).status).toBe(401);
    const refused = await server.browser().login(ALICE);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('LOGIN_THROTTLED');
  });

  it('a throttled sign-in during the outage answers 429 with Retry-After, not 503', async () => {
    for (let i = 0; i < LOGIN.accountFreeAttempts; i++) expect((await server.browser().login(WRONG)).status).toBe(401);
    proxy.setMode('reset');
    const refused = await server.browser().login(ALICE);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('LOGIN_THROTTLED');
    expect(refused.headers.get('retry-after')).toBe('1');
  });
});
