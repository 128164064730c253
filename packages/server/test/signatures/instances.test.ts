/**
 * `gatehouse.signatures`: the verifier built from the `signatures` section,
 * its nonces in Gatehouse's one consume-once record. Two instances share it
 * (one SQLite file; one Redis), so a request accepted by one is a replay on
 * the other; a store that cannot record refuses (503), never lets through.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { nodeSignatureGuard } from '../../src/http/node.js';
import { hmacSignatureKey } from '../../src/signatures/keys.js';
import { signRequest } from '../../src/signatures/signer.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { TEST_SECRET } from '../support/test-server.js';

const SECRET = randomBytes(32).toString('base64url');
const ORIGIN = 'https://api.example.test';
const key = hmacSignatureKey('partner-a', SECRET);

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
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-signature-instances-'));
  dirs.push(dir);
  return dir;
}

/** One Gatehouse instance on `dir` behind a node:http API whose every route needs a signature. */
async function instance(dir: string, extra: Partial<ConfigInput> = {}): Promise<Instance> {
  const config = resolveConfig({
    secret: TEST_SECRET,
    dataDir: dir,
    logLevel: 'silent',
    signatures: { origins: [ORIGIN], keys: { 'partner-a': { alg: 'hmac-sha256', secret: SECRET } } },
    ...extra,
  });
  const gatehouse = await createGatehouse({ config, logger: createLogger('silent') });
  const guard = nodeSignatureGuard(gatehouse.signatures);
  const server: Server = createServer((req, res) => {
    void guard(req, res).then((signed) => signed !== undefined && res.end(JSON.stringify({ client: signed.signature.keyid })));
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

/** Sends `headers` to `instance`, as to the API origin (the Host the signature names). */
async function send(target: Instance, headers: Record<string, string>): Promise<{ status: number; code?: string; client?: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const url = new URL(target.url);
    const req = request({ host: url.hostname, port: url.port, path: '/orders', method: 'GET', headers: { ...headers, host: new URL(ORIGIN).host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        const json = JSON.parse(body) as { client?: string; error?: { code: string } };
        resolve({ status: res.statusCode ?? 0, ...(json.error === undefined ? {} : { code: json.error.code }), ...(json.client === undefined ? {} : { client: json.client }) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const signed = () => signRequest({ method: 'GET', url: `${ORIGIN}/orders` }, { key });

describe('gatehouse.signatures', () => {
  it('verifies with the configured keys and origins', async () => {
    const a = await instance(await dataDir());
    expect(await send(a, signed())).toEqual({ status: 200, client: 'partner-a' });
  });

  it('two instances on one SQLite file: a request accepted by one is SIGNATURE_REPLAYED on the other', async () => {
    const dir = await dataDir();
    const a = await instance(dir);
    const b = await instance(dir);
    const headers = signed();
    expect(await send(a, headers)).toEqual({ status: 200, client: 'partner-a' });
    expect(await send(b, headers)).toEqual({ status: 401, code: 'SIGNATURE_REPLAYED' });
    expect(await send(a, headers)).toEqual({ status: 401, code: 'SIGNATURE_REPLAYED' });
  });

  it('is not available without signatures.keys: building a guard fails at start, not per request', async () => {
    const config = resolveConfig({ secret: TEST_SECRET, dataDir: await dataDir(), logLevel: 'silent' });
    const gatehouse = await createGatehouse({ config, logger: createLogger('silent') });
    try {
      expect(() => nodeSignatureGuard(gatehouse.signatures)).toThrow(/signatures\.keys/);
    } finally {
      await gatehouse.close();
    }
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
      const headers = signed();
      expect(await send(b, headers)).toEqual({ status: 200, client: 'partner-a' });
      expect(await send(a, headers)).toEqual({ status: 401, code: 'SIGNATURE_REPLAYED' });
    });

    it('Redis down: a signed request is refused with 503, not let through', async () => {
      const a = await instance(await dataDir(), { redis: { url: redis.url } });
      await redis.kill();
      try {
        const answer = await send(a, signed());
        expect(answer).toEqual({ status: 503, code: 'REPLAY_CHECK_UNAVAILABLE' });
      } finally {
        await redis.restart();
      }
    });
  });
});
