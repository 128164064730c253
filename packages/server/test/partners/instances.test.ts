/**
 * Partner keys across instances: two Gatehouse servers on one SQLite file.
 * A key revoked on one is refused by the other at once through the Redis
 * feed (the other instance polls the store only once a minute here, so only
 * the feed can tell it), or at its next poll without Redis. With Redis the
 * rate limit counts both instances' requests together, and fails closed
 * when Redis is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { parsePartnerKey } from '../../src/partners/partner-key.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { SECRET, startPartnerServer, type PartnerServer } from './support.js';

const SHOP = 'https://shop.acme.test';

async function status(server: PartnerServer, headers: Record<string, string>): Promise<[number, string | undefined]> {
  const response = await fetch(`${server.baseURL}/api/catalog`, { headers });
  const body = (await response.json()) as { error?: { code?: string } };
  return [response.status, body.error?.code];
}

/** Polls `condition` every 5 ms; returns how long it took, or throws after `limitMs`. */
async function within(limitMs: number, condition: () => Promise<boolean> | boolean): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

let dataDir: string;
const running: PartnerServer[] = [];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-partner-instances-'));
});
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function instance(config: Parameters<typeof startPartnerServer>[0], syncIntervalMs: number): Promise<PartnerServer> {
  const server = await startPartnerServer({ ...config, revocation: { maxStalenessSeconds: 3600 } }, { dataDir, syncIntervalMs });
  running.push(server);
  return server;
}

describe('without Redis', () => {
  it('a key revoked on one instance is refused by the other at its next read of the store', async () => {
    const a = await instance({}, 50);
    const b = await instance({}, 50);
    const keys = await b.gatehouse.partners.admin.add({ id: 'acme', origins: [SHOP], scopes: ['catalog:read'] });
    await within(2000, async () => (await status(a, { 'x-gatehouse-key': keys.secretKey }))[0] === 200);
    await b.gatehouse.partners.admin.revoke(parsePartnerKey(keys.secretKey)?.id ?? '');
    expect(await status(b, { 'x-gatehouse-key': keys.secretKey })).toEqual([401, 'PARTNER_KEY_INVALID']);
    await within(1000, async () => (await status(a, { 'x-gatehouse-key': keys.secretKey }))[0] === 401);
  });
});

describe('with Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a key revoked on one instance is refused by the other at once, through the feed (it reads the store once a minute)', async () => {
    const a = await instance({ redis: { url: redis.url, keyPrefix: 'revoke:' } }, 60_000);
    const b = await instance({ redis: { url: redis.url, keyPrefix: 'revoke:' } }, 60_000);
    const keys = await b.gatehouse.partners.admin.add({ id: 'acme', origins: [SHOP], scopes: ['catalog:read'] });
    await a.gatehouse.partners.registry?.sync(); // the new partner, as a minute's poll would bring it
    await within(5000, () => a.gatehouse.partners.registry?.live === true && b.gatehouse.partners.registry?.live === true);
    expect(await status(a, { 'x-gatehouse-key': keys.publishableKey, origin: SHOP })).toEqual([200, undefined]);
    await b.gatehouse.partners.admin.revoke(parsePartnerKey(keys.publishableKey)?.id ?? '');
    const tookMs = await within(1000, async () => (await status(a, { 'x-gatehouse-key': keys.publishableKey, origin: SHOP }))[0] === 401);
    expect(tookMs).toBeLessThan(1000);
    expect(await status(a, { 'x-gatehouse-key': keys.publishableKey, origin: SHOP })).toEqual([401, 'PARTNER_KEY_INVALID']);
    expect(await status(a, { 'x-gatehouse-key': keys.secretKey })).toEqual([200, undefined]);
  });

  it('`gatehouse partner revoke`, run as its own process would, stops the key on a running instance at once, through the feed', async () => {
    const a = await instance({ redis: { url: redis.url, keyPrefix: 'cli:' } }, 60_000);
    const keys = await a.gatehouse.partners.admin.add({ id: 'acme', origins: [SHOP], scopes: ['catalog:read'] });
    await within(5000, () => a.gatehouse.partners.registry?.live === true);
    expect(await status(a, { 'x-gatehouse-key': keys.secretKey })).toEqual([200, undefined]);
    let stderr = '';
    const io: CLIIO = {
      stdout: () => undefined,
      stderr: (text) => void (stderr += text),
      readStdin: async () => '',
      // The CLI's own configuration: the same store and Redis; partner keys need not be enabled to manage them.
      env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_REDIS_URL: redis.url, GATEHOUSE_REDIS_KEY_PREFIX: 'cli:' },
      cwd: dataDir,
      stopSignal: new Promise<string>(() => undefined),
    };
    expect(await main(['--data-dir', dataDir, 'partner', 'revoke', parsePartnerKey(keys.secretKey)?.id ?? ''], io), stderr).toBe(0);
    await within(1000, async () => (await status(a, { 'x-gatehouse-key': keys.secretKey }))[0] === 401);
    expect(await status(a, { 'x-gatehouse-key': keys.secretKey })).toEqual([401, 'PARTNER_KEY_INVALID']);
  });

  it('one rate limit for both instances; with Redis gone, partner requests are refused (503), never let through uncounted', async () => {
    const config = { redis: { url: redis.url, keyPrefix: 'limit:' }, partners: { rateLimit: { requests: 4, windowSeconds: 60 } } };
    const a = await instance(config, 50);
    const b = await instance(config, 50);
    const keys = await a.gatehouse.partners.admin.add({ id: 'acme', origins: [SHOP], scopes: ['catalog:read'] });
    await within(2000, async () => (await status(b, { 'x-gatehouse-key': keys.secretKey }))[0] === 200); // 1
    expect((await status(a, { 'x-gatehouse-key': keys.secretKey }))[0]).toBe(200); // 2
    expect((await status(b, { 'x-gatehouse-key': keys.secretKey }))[0]).toBe(200); // 3
    expect((await status(a, { 'x-gatehouse-key': keys.secretKey }))[0]).toBe(200); // 4
    expect(await status(b, { 'x-gatehouse-key': keys.secretKey })).toEqual([429, 'PARTNER_RATE_LIMITED']);
    expect(await status(a, { 'x-gatehouse-key': keys.secretKey })).toEqual([429, 'PARTNER_RATE_LIMITED']);

    await redis.kill();
    try {
      expect(await status(a, { 'x-gatehouse-key': keys.publishableKey, origin: SHOP })).toEqual([503, 'PARTNER_RATE_LIMIT_UNAVAILABLE']);
    } finally {
      await redis.restart();
    }
  });
});
