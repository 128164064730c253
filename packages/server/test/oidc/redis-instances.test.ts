/**
 * OIDC with Redis configured (many instances): single use goes through
 * Redis `SET NX PX`, a back-channel logout reaches another instance through
 * the revocation feed, and when Redis is gone nothing single-use is accepted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { ProviderUser, presentCallback, signInWith, startLogin, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

let redis: TestRedis;
let server: OIDCTestServer;
let other: Gatehouse;
beforeAll(async () => {
  redis = await startRedisServer();
  server = await startOIDCServer({ config: { redis: { url: redis.url } } });
  // A second instance: same configuration, same store, same Redis; it never polls the store
  // in time for this test (an hour), so what it learns, it learns from the feed.
  other = await createGatehouse({ config: server.gatehouse.config, clock: server.clock, logger: createLogger('silent'), revocationSyncIntervalMs: 3_600_000 });
});
afterAll(async () => {
  await other?.close();
  await server?.close();
  await redis?.stop();
});

describe('OIDC on many instances (Redis)', () => {
  it('records single-use values in Redis: a replayed callback is refused', async () => {
    const browser = server.browser();
    const authorizationURL = await startLogin(browser, 'demo');
    const callback = await new ProviderUser('redis-user').signIn(authorizationURL, server.origin);
    const copy = browser.fork();
    expect((await presentCallback(browser, callback)).status).toBe(303);
    const replay = await presentCallback(copy, callback);
    expect(replay.status).toBe(400);
    expect(replay.body.error.code).toBe('OIDC_TRANSACTION_INVALID');
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    try {
      expect(await client.keys('gatehouse:once:oidc-transaction:*')).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  });

  it('a back-channel logout at one instance ends the session at the other through the feed', async () => {
    const browser = server.browser();
    await signInWith(server, browser, 'demo', new ProviderUser('feed-user'));
    const sessionId = (await browser.get('/auth/me')).body.session.id;
    const sid = (await server.gatehouse.store.findProviderSession(sessionId))?.sid ?? '';
    const guard = other.guard();
    const request = () => new Request(`${server.origin}/api/whoami`, { headers: { cookie: browser.cookieHeader('/api/whoami') } });
    const client = { ip: '127.0.0.1', userAgent: null };
    await vi.waitFor(async () => expect((await guard(request(), client)).ok).toBe(true), { timeout: 2_000 });
    const registered = (await server.provider.provider.Client.find('gatehouse')) ?? expect.unreachable('client gatehouse is registered');
    await registered.backchannelLogout('feed-user', sid);
    await vi.waitFor(async () => {
      const outcome = await guard(request(), client);
      expect(outcome.ok ? null : outcome.error.code).toBe('SESSION_REVOKED');
    }, { timeout: 1_000, interval: 10 });
  });

  it('refuses the callback (503 REPLAY_CHECK_UNAVAILABLE) while Redis is down, and opens no session', async () => {
    const browser = server.browser();
    const authorizationURL = await startLogin(browser, 'demo');
    const callback = await new ProviderUser('no-redis').signIn(authorizationURL, server.origin);
    await redis.kill();
    try {
      const response = await presentCallback(browser, callback);
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('REPLAY_CHECK_UNAVAILABLE');
      expect(response.setCookies.map((c) => c.name)).not.toContain('__Host-gh_access');
    } finally {
      await redis.restart();
    }
  });
});
