/**
 * A proof's `jti` is accepted once across every instance (RFC 9449 §11.1):
 * two Gatehouse instances on one SQLite file, or each on its own file with
 * one Redis, refuse each other's replays; a replay check that cannot be made
 * (Redis down) is 503, never a pass. Both instances serve one public API
 * origin (`dpop.origins`), whatever address the request reached.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { nodeGuard, sendJSON } from '../../src/http/node.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { TEST_SECRET } from '../support/test-server.js';
import { boundSession } from './bound-tokens.js';
import { generateKeyPair, generateProof } from './support.js';

const ORIGIN = 'https://api.example.test';

interface Instance {
  readonly gatehouse: Gatehouse;
  readonly url: string;
  close(): Promise<void>;
}

const dirs: string[] = [];
const open: Instance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((instance) => instance.close()));
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-instances-'));
  dirs.push(dir);
  return dir;
}

/** One Gatehouse on `dir` behind a node:http API whose every route needs a token (bearer, or DPoP with its proof). */
async function instance(dir: string, extra: Partial<ConfigInput> = {}): Promise<Instance> {
  const config = resolveConfig({ secret: TEST_SECRET, dataDir: dir, logLevel: 'silent', dpop: { origins: [ORIGIN] }, ...extra });
  const gatehouse = await createGatehouse({ config, logger: createLogger('silent') });
  const guard = nodeGuard(gatehouse);
  const server: Server = createServer((req, res) => {
    void guard(req, res).then((auth) => void (auth !== undefined && sendJSON(res, 200, { via: auth?.via })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const result: Instance = {
    gatehouse,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gatehouse.close();
    },
  };
  open.push(result);
  return result;
}

async function send(target: Instance, headers: Record<string, string>): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${target.url}/api/orders`, { headers });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, ...(body.error === undefined ? {} : { code: body.error.code }) };
}

/** alice signed in on `a`, her token bound to a fresh key, and a maker of proofs for GET /api/orders. */
async function boundClient(a: Instance) {
  await a.gatehouse.auth.createUser({ username: 'alice', password: 'correct horse battery staple', roles: ['user'] });
  const keys = await generateKeyPair('ES256');
  const session = await boundSession(a.gatehouse, keys, systemClock);
  return async () => ({ authorization: `DPoP ${session.bound}`, dpop: await generateProof(keys, `${ORIGIN}/api/orders`, 'GET', undefined, session.bound) });
}

describe('DPoP proofs across instances', () => {
  it('two instances on one SQLite file: a proof accepted by one is DPOP_PROOF_REPLAYED on the other', async () => {
    const dir = await dataDir();
    const a = await instance(dir);
    const b = await instance(dir);
    const headers = await (await boundClient(a))();
    expect(await send(a, headers)).toEqual({ status: 200 });
    expect(await send(b, headers)).toEqual({ status: 401, code: 'DPOP_PROOF_REPLAYED' });
  });

  it('a fresh proof of the same key passes on either instance', async () => {
    const dir = await dataDir();
    const a = await instance(dir);
    const b = await instance(dir);
    const proofs = await boundClient(a);
    expect(await send(a, await proofs())).toEqual({ status: 200 });
    expect(await send(b, await proofs())).toEqual({ status: 200 });
  });

  describe('with Redis', () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis.stop();
    });

    it('two instances with their own SQLite files but one Redis: the replay is refused on the other', async () => {
      const a = await instance(await dataDir(), { redis: { url: redis.url } });
      const b = await instance(await dataDir(), { redis: { url: redis.url } });
      const headers = await (await boundClient(a))();
      expect(await send(b, headers)).toEqual({ status: 200 });
      expect(await send(a, headers)).toEqual({ status: 401, code: 'DPOP_PROOF_REPLAYED' });
    });

    it('Redis down: a DPoP request is refused with 503 REPLAY_CHECK_UNAVAILABLE, not let through', async () => {
      const a = await instance(await dataDir(), { redis: { url: redis.url } });
      const proofs = await boundClient(a);
      await redis.kill();
      try {
        expect(await send(a, await proofs())).toEqual({ status: 503, code: 'REPLAY_CHECK_UNAVAILABLE' });
      } finally {
        await redis.restart();
      }
    });
  });
});
