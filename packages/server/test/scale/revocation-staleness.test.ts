import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, requirePostgres, TEST_DATABASE_URL, type TestSchema } from '../support/postgres.js';
import { startTCPProxy, type TCPProxy } from '../support/tcp-proxy.js';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestResponse } from '../support/test-browser.js';

/**
 * One instance without Redis (the default), on PostgreSQL reached through a
 * proxy the test can cut: the revocation list is kept current only by reading
 * the store. When those reads keep failing past revocation.maxStalenessSeconds,
 * the guard stops trusting the list (threat model §8).
 */
const MAX_STALENESS_SECONDS = 1;

let database: TestSchema;
let proxy: TCPProxy;
let server: TestServer;

beforeAll(async () => {
  await requirePostgres();
  database = freshSchema();
  const target = new URL(TEST_DATABASE_URL);
  proxy = await startTCPProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(TEST_DATABASE_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  server = await startTestServer({
    database: { url: url.toString(), schema: database.schema },
    revocation: { maxStalenessSeconds: MAX_STALENESS_SECONDS },
  });
});

afterAll(async () => {
  proxy?.setMode('forward');
  await server?.close();
  await proxy?.close();
  await database?.drop();
});

describe('a single instance whose revocation reads keep failing', () => {
  it(`keeps serving valid tokens through a short outage, refuses them with 503 REVOCATION_UNAVAILABLE once the list is ${MAX_STALENESS_SECONDS} s old, and serves them again when the store is back`, async () => {
    const browser = server.browser();
    expect((await browser.login(ALICE)).status).toBe(200);
    const token = browser.cookie('__Host-gh_access');
    const bearer = (): Promise<TestResponse> => server.browser({ origin: null }).get('/api/private', { headers: { authorization: `Bearer ${token}` } });
    expect((await bearer()).status).toBe(200);

    proxy.setMode('reset');
    const cutAt = performance.now();
    // The guard never reads the store itself: right after the cut, the last known list still vouches.
    expect((await bearer()).status).toBe(200);
    let refused: TestResponse;
    for (;;) {
      refused = await bearer();
      if (refused.status !== 200) break;
      expect(performance.now() - cutAt, 'still accepted well past the staleness limit').toBeLessThan(MAX_STALENESS_SECONDS * 1000 + 2_000);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const refusedAfterMs = performance.now() - cutAt;
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('REVOCATION_UNAVAILABLE');
    // Not before the limit (less the up to 50 ms between the last good read and the cut, and some slack).
    expect(refusedAfterMs).toBeGreaterThanOrEqual(MAX_STALENESS_SECONDS * 1000 - 300);
    // Cookie sessions too, and the cookies are kept: the session is not known to be over.
    const withCookies = await browser.get('/api/private');
    expect(withCookies.status).toBe(503);
    expect(withCookies.body.error.code).toBe('REVOCATION_UNAVAILABLE');
    expect(withCookies.setCookies).toEqual([]);

    proxy.setMode('forward');
    const deadline = performance.now() + 10_000;
    let answer = await bearer();
    while (answer.status === 503 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      answer = await bearer();
    }
    expect(answer.status).toBe(200);
    expect((await browser.get('/api/private')).status).toBe(200);
  });
});
