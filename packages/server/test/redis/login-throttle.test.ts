import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { MemoryLoginThrottle, type AttemptDecision, type LoginThrottle, type LoginThrottleOptions } from '../../src/core/login-throttle.js';
import { RedisLoginThrottle } from '../../src/redis/redis-login-throttle.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';

const OPTIONS: LoginThrottleOptions = { accountFreeAttempts: 5, ipFreeAttempts: 30, maxDelaySeconds: 900, failureWindowSeconds: 3600 };
const logger = createLogger('silent');

let redis: TestRedis;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

/** A connection like Gatehouse's own: no offline queue, so an unreachable Redis fails at once. */
function connection(): Redis {
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

async function ready(client: Redis): Promise<Redis> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

interface Instance {
  readonly name: string;
  /** Two throttles sharing their counters (two instances), on one clock. */
  make(clock: ManualClock): Promise<[LoginThrottle, LoginThrottle]>;
}

const IMPLEMENTATIONS: Instance[] = [
  {
    name: 'MemoryLoginThrottle (one process: both handles are the same object)',
    async make(clock) {
      const throttle = new MemoryLoginThrottle(OPTIONS, clock);
      return [throttle, throttle];
    },
  },
  {
    name: 'RedisLoginThrottle (two connections, as two instances)',
    async make(clock) {
      // A fresh prefix per test: nothing carries over, and nothing of anyone else's is touched.
      const keyPrefix = `gh-test-${randomBytes(6).toString('hex')}:`;
      return [
        new RedisLoginThrottle(await ready(connection()), { ...OPTIONS, keyPrefix, logger }, clock),
        new RedisLoginThrottle(await ready(connection()), { ...OPTIONS, keyPrefix, logger }, clock),
      ];
    },
  },
];

const allowed = (decision: AttemptDecision): boolean => decision.allowed;
const waitOf = (decision: AttemptDecision): number | undefined => (decision.allowed ? undefined : decision.retryAfterSeconds);

describe.each(IMPLEMENTATIONS)('$name', ({ make }) => {
  it('lets 5 failures through for one account, then asks for 1 s, 2 s, 4 s … capped at 900 s', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 5; i++) expect(allowed(await (i % 2 === 0 ? a : b).begin('alice', '192.0.2.1'))).toBe(true);
    const waits: (number | undefined)[] = [];
    for (let i = 0; i < 12; i++) {
      const refused = await b.begin('alice', '192.0.2.1');
      waits.push(waitOf(refused));
      clock.advance((refused.allowed ? 0 : refused.retryAfterSeconds) * 1000);
      expect(allowed(await a.begin('alice', '192.0.2.1'))).toBe(true);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  });

  it('does not count refused attempts: hammering during the wait does not lengthen it', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 5; i++) await a.begin('bob', '192.0.2.2');
    for (let i = 0; i < 20; i++) expect(waitOf(await b.begin('bob', '192.0.2.2'))).toBe(1);
    clock.advance(1000);
    expect(allowed(await a.begin('bob', '192.0.2.2'))).toBe(true);
    expect(waitOf(await a.begin('bob', '192.0.2.2'))).toBe(2);
  });

  it('a correct password clears the account on every instance', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 4; i++) await a.begin('carol', '192.0.2.3');
    const right = await b.begin('carol', '192.0.2.3');
    if (!right.allowed) throw new Error('the fifth attempt should be let through');
    await right.attempt.succeeded();
    for (let i = 0; i < 5; i++) expect(allowed(await a.begin('carol', '192.0.2.4'))).toBe(true);
  });

  it('forgets failures after failureWindowSeconds without one', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 4; i++) await a.begin('dave', '192.0.2.5');
    clock.advance(3600 * 1000 + 1);
    for (let i = 0; i < 5; i++) expect(allowed(await b.begin('dave', '192.0.2.5'))).toBe(true);
    expect(waitOf(await b.begin('dave', '192.0.2.5'))).toBe(1);
  });

  it('counts one IP across usernames (30 free), per /64 for IPv6', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 30; i++) expect(allowed(await (i % 2 === 0 ? a : b).begin(`user${i}`, `2001:db8:1:2::${i.toString(16)}`))).toBe(true);
    expect(waitOf(await a.begin('someone-new', '2001:db8:1:2:ffff::1'))).toBe(1);
    expect(allowed(await a.begin('someone-new', '2001:db8:1:3::1'))).toBe(true);
  });

  it('an abandoned attempt (no verdict on the password) counts nothing, on the account or the IP', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 40; i++) {
      const decision = await (i % 2 === 0 ? a : b).begin('gina', '192.0.2.10');
      if (!decision.allowed) throw new Error(`attempt ${i} was refused: abandoned attempts were counted`);
      await decision.attempt.abandoned();
    }
    for (let i = 0; i < 5; i++) expect(allowed(await a.begin('gina', '192.0.2.10'))).toBe(true);
    expect(waitOf(await b.begin('gina', '192.0.2.10'))).toBe(1);
  });

  it('abandoning the attempt that started a wait ends that wait; the failures before it still count', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 4; i++) await a.begin('hank', '192.0.2.11');
    const fifth = await b.begin('hank', '192.0.2.11');
    if (!fifth.allowed) throw new Error('the fifth attempt should be let through');
    expect(waitOf(await a.begin('hank', '192.0.2.11'))).toBe(1);
    await fifth.attempt.abandoned();
    expect(allowed(await a.begin('hank', '192.0.2.11'))).toBe(true);
    expect(waitOf(await b.begin('hank', '192.0.2.11'))).toBe(1);
  });

  it('an attempt is settled once: succeeded() after abandoned() clears nothing', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    for (let i = 0; i < 4; i++) await a.begin('ivan', '192.0.2.12');
    const last = await b.begin('ivan', '192.0.2.12');
    if (!last.allowed) throw new Error('the fifth attempt should be let through');
    await last.attempt.abandoned();
    await last.attempt.succeeded();
    expect(allowed(await a.begin('ivan', '192.0.2.12'))).toBe(true);
    expect(waitOf(await a.begin('ivan', '192.0.2.12'))).toBe(1);
  });

  it('reserving keeps parallel attempts to the limit: of 50 in flight at once, 5 get through; abandoning them frees the account', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).begin('judy', `198.51.100.${i}`)));
    const through = decisions.filter((d) => d.allowed);
    expect(through).toHaveLength(5);
    await Promise.all(through.map((d) => d.attempt.abandoned()));
    for (let i = 0; i < 5; i++) expect(allowed(await a.begin('judy', '192.0.2.13'))).toBe(true);
    expect(waitOf(await b.begin('judy', '192.0.2.13'))).toBe(1);
  });

  it('of 50 simultaneous guesses at one account through both handles, exactly 5 are let through', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const [a, b] = await make(clock);
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).begin('erin', `198.51.100.${i}`)));
    expect(decisions.filter(allowed)).toHaveLength(5);
  });
});

describe('RedisLoginThrottle when Redis is unreachable', () => {
  it('refuses with THROTTLE_UNAVAILABLE rather than letting an uncounted guess through, and counts again once Redis is back', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const client = await ready(connection());
    const throttle = new RedisLoginThrottle(client, { ...OPTIONS, keyPrefix: `gh-test-${randomBytes(6).toString('hex')}:`, logger }, clock);
    expect(allowed(await throttle.begin('frank', '192.0.2.9'))).toBe(true);
    await redis.kill();
    const error = await throttle.begin('frank', '192.0.2.9').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGatehouseError(error, 'THROTTLE_UNAVAILABLE')).toBe(true);
    await redis.restart();
    await ready(client);
    // A restarted Redis without persistence has forgotten the counts: a fresh start, never a pass without counting.
    for (let i = 0; i < 5; i++) expect(allowed(await throttle.begin('frank', '192.0.2.9'))).toBe(true);
    expect(waitOf(await throttle.begin('frank', '192.0.2.9'))).toBe(1);
  });
});
