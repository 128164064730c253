/**
 * The guard with DPoP-bound tokens (RFC 9449 §7), in every adapter over real
 * HTTP: a token bound to a key (`cnf.jkt`) passes only as `Authorization:
 * DPoP` with a fresh proof of that key for this method and URL and this
 * token; alone, as `Bearer`, in a cookie, with another key's proof, with a
 * replayed or mismatched proof, it is worth nothing. Proofs come from panva's
 * `dpop` package. Ordinary bearer tokens go on working as before.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { expressGuard } from '../../src/http/express.js';
import { fastifyGuard, gatehouseFastify } from '../../src/http/fastify.js';
import type { Auth, GuardOptions } from '../../src/http/guard.js';
import { honoGuard, type GatehouseEnv } from '../../src/http/hono.js';
import { nodeGuard, sendJSON } from '../../src/http/node.js';
import { TEST_SECRET } from '../support/test-server.js';
import { boundSession, type BoundSession } from './bound-tokens.js';
import { generateKeyPair, generateProof, type KeyPair } from './support.js';

const ADAPTERS = ['node', 'express', 'fastify', 'hono', 'hono-web'] as const;
type Adapter = (typeof ADAPTERS)[number];

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ROUTES: Readonly<Record<string, GuardOptions>> = { '/api/orders': {}, '/api/admin': { roles: ['admin'] } };
const answer = (auth: Auth | null | undefined) => ({ user: auth?.user.username, via: auth?.via });

/** The same guarded routes on each framework; Express's sit in a router mounted at /api (so `req.url` is rewritten). */
async function mount(adapter: Adapter, gatehouse: Gatehouse): Promise<Server> {
  switch (adapter) {
    case 'node': {
      const guards = new Map(Object.entries(ROUTES).map(([path, options]) => [path, nodeGuard(gatehouse, options)]));
      return createServer((req, res) => {
        const guard = guards.get(new URL(req.url ?? '/', 'http://x').pathname);
        if (guard === undefined) return void sendJSON(res, 404, {});
        void guard(req, res).then((auth) => void (auth !== undefined && sendJSON(res, 200, answer(auth))));
      });
    }
    case 'express': {
      const app = express();
      const router = express.Router();
      for (const [path, options] of Object.entries(ROUTES)) router.all(path.slice('/api'.length), expressGuard(gatehouse, options), (req, res) => void res.json(answer(req.auth)));
      app.use('/api', router);
      return createServer(app);
    }
    case 'fastify': {
      let server: Server | undefined;
      const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
      await app.register(gatehouseFastify, { gatehouse });
      for (const [path, options] of Object.entries(ROUTES)) app.route({ method: ['GET', 'POST'], url: path, onRequest: fastifyGuard(gatehouse, options), handler: async (request) => answer(request.auth) });
      await app.ready();
      if (server === undefined) throw new Error('Fastify built no server');
      return server;
    }
    case 'hono':
    case 'hono-web': {
      const app = new Hono<GatehouseEnv>();
      const extra = adapter === 'hono-web' ? { remoteAddress: () => '127.0.0.1' } : {};
      for (const [path, options] of Object.entries(ROUTES)) app.on(['GET', 'POST'], path, honoGuard(gatehouse, { ...options, ...extra }), (c) => c.json(answer(c.get('auth'))));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
  }
}

let dir: string;
let gatehouse: Gatehouse;
const clock = new ManualClock(Date.now());
const ports = new Map<Adapter, number>();
const servers: Server[] = [];

beforeAll(async () => {
  for (const adapter of ADAPTERS) ports.set(adapter, await freePort());
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-guard-'));
  const config = resolveConfig({
    secret: TEST_SECRET,
    dataDir: dir,
    logLevel: 'silent',
    publicOrigin: 'http://localhost:8080',
    dpop: { origins: [...ports.values()].map((port) => `http://127.0.0.1:${port}`) },
  });
  gatehouse = await createGatehouse({ config, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ username: 'alice', password: 'correct horse battery staple', roles: ['user'] });
  for (const adapter of ADAPTERS) {
    const server = await mount(adapter, gatehouse);
    await new Promise<void>((resolve) => server.listen(ports.get(adapter), '127.0.0.1', resolve));
    servers.push(server);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  })));
  await gatehouse.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly body: { user?: string; via?: string; error?: { code: string } };
  readonly challenge: string | null;
}

describe.each(ADAPTERS)('a DPoP-bound token on %s', (adapter) => {
  let origin: string;
  let keys: KeyPair;
  let session: BoundSession;

  beforeAll(async () => {
    origin = `http://127.0.0.1:${ports.get(adapter) ?? 0}`;
    keys = await generateKeyPair('ES256');
    session = await boundSession(gatehouse, keys, clock);
  });

  async function call(path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
    const response = await fetch(`${origin}${path}`, { method, headers });
    return { status: response.status, body: (await response.json()) as Answer['body'], challenge: response.headers.get('www-authenticate') };
  }

  const dpopHeaders = async (options: { path?: string; method?: string; pair?: KeyPair; token?: string; ath?: string | undefined } = {}) => ({
    authorization: `DPoP ${options.token ?? session.bound}`,
    dpop: await generateProof(options.pair ?? keys, `${origin}${options.path ?? '/api/orders'}`, options.method ?? 'GET', undefined, 'ath' in options ? options.ath : (options.token ?? session.bound)),
  });

  it('passes with Authorization: DPoP and a proof of its key for this request', async () => {
    const result = await call('/api/orders', await dpopHeaders());
    expect(result).toMatchObject({ status: 200, body: { user: 'alice', via: 'dpop' } });
    const post = await call('/api/orders', await dpopHeaders({ method: 'POST' }), 'POST');
    expect(post).toMatchObject({ status: 200, body: { via: 'dpop' } });
  });

  it('stolen, it is worthless as a Bearer token: 401 DPOP_TOKEN_WITHOUT_PROOF with a DPoP challenge', async () => {
    const result = await call('/api/orders', { authorization: `Bearer ${session.bound}` });
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'DPOP_TOKEN_WITHOUT_PROOF' } } });
    expect(result.challenge).toMatch(/^DPoP error="invalid_token", algs="ES256 EdDSA Ed25519 PS256 RS256"$/);
  });

  it('stolen, it is worthless in the access cookie', async () => {
    const result = await call('/api/orders', { cookie: `${gatehouse.config.cookies.accessName}=${session.bound}` });
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'DPOP_TOKEN_WITHOUT_PROOF' } } });
  });

  it('stolen, it is worthless with a proof of the thief\'s own key: 401 DPOP_KEY_MISMATCH', async () => {
    const result = await call('/api/orders', await dpopHeaders({ pair: await generateKeyPair('ES256') }));
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'DPOP_KEY_MISMATCH' } } });
    expect(result.challenge).toMatch(/^DPoP error="invalid_token"/);
  });

  it('without a DPoP header: 401 DPOP_PROOF_MISSING, error="invalid_dpop_proof"', async () => {
    const result = await call('/api/orders', { authorization: `DPoP ${session.bound}` });
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'DPOP_PROOF_MISSING' } } });
    expect(result.challenge).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('with a proof for another method or another URL: DPOP_METHOD_MISMATCH, DPOP_URL_MISMATCH', async () => {
    expect((await call('/api/orders', await dpopHeaders({ method: 'POST' }))).body.error?.code).toBe('DPOP_METHOD_MISMATCH');
    expect((await call('/api/orders', await dpopHeaders({ path: '/api/admin' }))).body.error?.code).toBe('DPOP_URL_MISMATCH');
  });

  it('htu is compared with the configured origin, never the Host header: a proof for another host is refused even when Host names it', async () => {
    const headers = { authorization: `DPoP ${session.bound}`, dpop: await generateProof(keys, 'http://evil.example.test/api/orders', 'GET', undefined, session.bound) };
    const response = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      // fetch cannot set Host; node:http can.
      const request = httpRequest(
        { host: '127.0.0.1', port: ports.get(adapter), path: '/api/orders', headers: { ...headers, host: 'evil.example.test' } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { error?: { code: string } }).error?.code ?? '' }));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(response).toEqual({ status: 401, code: 'DPOP_URL_MISMATCH' });
  });

  it('a replayed proof is refused: DPOP_PROOF_REPLAYED', async () => {
    const headers = await dpopHeaders();
    expect((await call('/api/orders', headers)).status).toBe(200);
    expect((await call('/api/orders', headers)).body.error?.code).toBe('DPOP_PROOF_REPLAYED');
  });

  it('a proof without ath, or with the hash of another token: DPOP_ATH_MISMATCH', async () => {
    expect((await call('/api/orders', await dpopHeaders({ ath: undefined }))).body.error?.code).toBe('DPOP_ATH_MISMATCH');
    expect((await call('/api/orders', await dpopHeaders({ ath: session.bearer }))).body.error?.code).toBe('DPOP_ATH_MISMATCH');
  });

  it('an unbound token sent as DPoP is refused (DPOP_TOKEN_NOT_BOUND); as Bearer it works as before', async () => {
    expect((await call('/api/orders', await dpopHeaders({ token: session.bearer }))).body.error?.code).toBe('DPOP_TOKEN_NOT_BOUND');
    expect(await call('/api/orders', { authorization: `Bearer ${session.bearer}` })).toMatchObject({ status: 200, body: { via: 'bearer' } });
  });

  it('roles are checked after the proof: a valid proof without the role is 403 FORBIDDEN', async () => {
    expect(await call('/api/admin', await dpopHeaders({ path: '/api/admin' }))).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  });

  it('a tampered token under a valid proof is 401 TOKEN_INVALID, error="invalid_token"', async () => {
    const tampered = `${session.bound.slice(0, -2)}${session.bound.endsWith('AA') ? 'BA' : 'AA'}`;
    const result = await call('/api/orders', await dpopHeaders({ token: tampered }));
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'TOKEN_INVALID' } } });
    expect(result.challenge).toMatch(/^DPoP error="invalid_token"/);
  });
});

describe('a DPoP-bound token after its session ended', () => {
  it('is refused with SESSION_REVOKED, proof or not', async () => {
    const keys = await generateKeyPair('ES256');
    const session = await boundSession(gatehouse, keys, clock);
    const origin = `http://127.0.0.1:${ports.get('node') ?? 0}`;
    const headers = async () => ({ authorization: `DPoP ${session.bound}`, dpop: await generateProof(keys, `${origin}/api/orders`, 'GET', undefined, session.bound) });
    expect((await fetch(`${origin}/api/orders`, { headers: await headers() })).status).toBe(200);
    await gatehouse.auth.logout(session.sessionId, { ip: '127.0.0.1', userAgent: null });
    const response = await fetch(`${origin}/api/orders`, { headers: await headers() });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SESSION_REVOKED');
  });
});
