/**
 * The one consume-once primitive, the same contract on each of its backings:
 * a unique row in SQLite, a unique row in PostgreSQL, `SET NX PX` in Redis.
 * Each runs as two "instances" (two connections to the same backing), since
 * single use across instances is the point.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { consumeKey, StoreConsumeOnce, type ConsumeOnce } from '../../src/core/consume-once.js';
import { RedisConsumeOnce } from '../../src/redis/redis-consume-once.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import { freshSchema, requirePostgres } from '../support/postgres.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const MIN = 60_000;

interface Backing {
  /** Two instances sharing one backing, on one clock. */
  instances: [ConsumeOnce, ConsumeOnce];
  clock: ManualClock;
  close(): Promise<void>;
}

function describeConsumeOnce(name: string, open: () => Promise<Backing>): void {
  describe(`consume once: ${name}`, () => {
    let backing: Backing;
    beforeEach(async () => {
      backing = await open();
    });
    afterEach(async () => {
      await backing.close();
    });

    it('accepts an id once, on whichever instance sees it first', async () => {
      const [a, b] = backing.instances;
      expect(await a.consume('logout-token', 'jti-1', T0 + MIN)).toBe(true);
      expect(await b.consume('logout-token', 'jti-1', T0 + MIN)).toBe(false);
      expect(await a.consume('logout-token', 'jti-1', T0 + MIN)).toBe(false);
    });

    it('keeps kinds apart: the same id of another kind is another value', async () => {
      const [a, b] = backing.instances;
      expect(await a.consume('logout-token', 'same-id', T0 + MIN)).toBe(true);
      expect(await b.consume('login-app-token', 'same-id', T0 + MIN)).toBe(true);
    });

    it('of concurrent attempts across instances, exactly one wins', async () => {
      const [a, b] = backing.instances;
      const outcomes = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).consume('oidc-transaction', 'race', T0 + MIN)));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });

    it('accepts ids of any length and characters (they are stored hashed)', async () => {
      const [a, b] = backing.instances;
      const odd = `${'x'.repeat(5000)}\u0000'";--\u{1F600}`;
      expect(await a.consume('login-app-token', odd, T0 + MIN)).toBe(true);
      expect(await b.consume('login-app-token', odd, T0 + MIN)).toBe(false);
      expect(consumeKey('login-app-token', odd)).toMatch(/^login-app-token:[A-Za-z0-9_-]{43}$/);
    });
  });
}

describeConsumeOnce('SQLite (unique row)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-once-'));
  const clock = new ManualClock(T0);
  // Two connections to one file: two processes on one machine.
  const [s1, s2] = [openSQLiteStore({ path: join(dir, 'db') }), openSQLiteStore({ path: join(dir, 'db') })];
  return {
    instances: [new StoreConsumeOnce(s1, clock), new StoreConsumeOnce(s2, clock)],
    clock,
    async close() {
      await s1.close();
      await s2.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('consume once: PostgreSQL', () => {
  beforeAll(requirePostgres);
  describeConsumeOnce('PostgreSQL (unique row)', async () => {
    const schema = freshSchema();
    const clock = new ManualClock(T0);
    const s1 = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 4 });
    await s1.migrate();
    const s2 = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 4 });
    return {
      instances: [new StoreConsumeOnce(s1, clock), new StoreConsumeOnce(s2, clock)],
      clock,
      async close() {
        await s1.close();
        await s2.close();
        await schema.drop();
      },
    };
  });
});

describe('consume once: Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });

  const connect = () => new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });

  describeConsumeOnce('Redis (SET NX PX)', async () => {
    const clock = new ManualClock(T0);
    const [c1, c2] = [connect(), connect()];
    await Promise.all([c1.connect(), c2.connect()]);
    await c1.flushall();
    return {
      instances: [new RedisConsumeOnce(c1, { keyPrefix: 'gh:' }, clock), new RedisConsumeOnce(c2, { keyPrefix: 'gh:' }, clock)],
      clock,
      async close() {
        c1.disconnect();
        c2.disconnect();
      },
    };
  });

  it('lets Redis forget the record once the value has expired (PX is the time left)', async () => {
    const client = connect();
    await client.connect();
    try {
      const clock = new ManualClock(T0);
      const once = new RedisConsumeOnce(client, { keyPrefix: 'gh:' }, clock);
      expect(await once.consume('logout-token', 'ttl', T0 + 30_000)).toBe(true);
      const ttl = await client.pttl(`gh:once:${consumeKey('logout-token', 'ttl')}`);
      expect(ttl).toBeGreaterThan(29_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
    } finally {
      client.disconnect();
    }
  });

  it('refuses (503 REPLAY_CHECK_UNAVAILABLE), never accepts, when Redis cannot answer', async () => {
    const client = new Redis(`redis://127.0.0.1:${redis.port + 1}`, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      const once = new RedisConsumeOnce(client, { keyPrefix: 'gh:' }, new ManualClock(T0));
      await expect(once.consume('logout-token', 'x', T0 + MIN)).rejects.toMatchObject({ code: 'REPLAY_CHECK_UNAVAILABLE', status: 503 });
    } finally {
      client.disconnect();
    }
  });
});
