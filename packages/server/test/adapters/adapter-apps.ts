import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { resolveConfig } from '../../src/config/resolve.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { expressAuth, expressGuard } from '../../src/http/express.js';
import { fastifyGuard, gatehouseFastify } from '../../src/http/fastify.js';
import type { Auth, GuardOptions } from '../../src/http/guard.js';
import { honoAuth, honoGuard, type GatehouseEnv } from '../../src/http/hono.js';
import { createNodeServer, nodeGuard, sendJSON } from '../../src/http/node.js';
import { ALICE, APP_ORIGIN, BOB, TEST_SECRET } from '../support/test-server.js';
import { TestBrowser } from '../support/test-browser.js';

/** An administrator, for role checks. */
export const CAROL = { username: 'carol', password: 'carol has a long passphrase too' } as const;

/** `hono-web` is Hono told where the client address comes from, as on runtimes other than Node: the guard then reads the Web `Request`. */
export const ADAPTERS = ['node', 'express', 'fastify', 'hono', 'hono-web'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/**
 * The guarded routes every adapter's app has, with the same options. Each
 * answers `200 {"auth": …}` with the identity read in the framework's idiom.
 */
export const GUARDED_ROUTES: Readonly<Record<string, { readonly methods: readonly ('GET' | 'POST')[]; readonly options: GuardOptions }>> = {
  '/api/private': { methods: ['GET', 'POST'], options: {} },
  '/api/admin': { methods: ['GET'], options: { roles: ['admin'] } },
  '/api/guest': { methods: ['GET', 'POST'], options: { allowAnonymous: true } },
  '/api/webhook': { methods: ['POST'], options: { csrf: 'skip' } },
  '/api/transparent': { methods: ['GET', 'POST'], options: { transparentRefresh: true } },
};

/** Unguarded routes: `/auth` must not swallow paths that merely start with "auth". */
export const PUBLIC_ROUTES = ['/api/public', '/authority'] as const;

export interface AdapterServer {
  readonly adapter: AdapterName;
  readonly gatehouse: Gatehouse;
  readonly clock: ManualClock;
  readonly baseURL: string;
  browser(options?: { origin?: string | null }): TestBrowser;
  close(): Promise<void>;
}

type Mount = (gatehouse: Gatehouse) => Promise<Server>;

const mountNode: Mount = async (gatehouse) => {
  const routes = new Map<string, { methods: readonly string[]; guard: ReturnType<typeof nodeGuard> }>();
  for (const [path, route] of Object.entries(GUARDED_ROUTES)) routes.set(path, { methods: route.methods, guard: nodeGuard(gatehouse, route.options) });
  return createNodeServer(gatehouse, {
    async fallback(req: IncomingMessage, res: ServerResponse) {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if ((PUBLIC_ROUTES as readonly string[]).includes(path)) return sendJSON(res, 200, { public: true });
      const route = routes.get(path);
      if (route === undefined || !route.methods.includes(req.method ?? '')) return sendJSON(res, 404, { error: { code: 'NOT_FOUND' } });
      const auth = await route.guard(req, res);
      if (auth === undefined) return;
      req.resume();
      await sendJSON(res, 200, { auth });
    },
  });
};

const mountExpress: Mount = async (gatehouse) => {
  const app = express();
  app.use(expressAuth(gatehouse));
  app.use(express.json());
  for (const path of PUBLIC_ROUTES) app.get(path, (_req, res) => void res.json({ public: true }));
  for (const [path, route] of Object.entries(GUARDED_ROUTES)) {
    const guard = expressGuard(gatehouse, route.options);
    for (const method of route.methods) {
      const register = method === 'GET' ? app.get.bind(app) : app.post.bind(app);
      register(path, guard, (req, res) => {
        const auth: Auth | null | undefined = req.auth;
        res.json({ auth });
      });
    }
  }
  return createServer(app);
};

const mountFastify: Mount = async (gatehouse) => {
  let server: Server | undefined;
  const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
  await app.register(gatehouseFastify, { gatehouse });
  for (const path of PUBLIC_ROUTES) app.get(path, async () => ({ public: true }));
  for (const [path, route] of Object.entries(GUARDED_ROUTES)) {
    app.route({
      method: [...route.methods],
      url: path,
      onRequest: fastifyGuard(gatehouse, route.options),
      handler: async (request) => {
        const auth: Auth | null = request.auth;
        return { auth };
      },
    });
  }
  await app.ready();
  if (server === undefined) throw new Error('Fastify did not build a server');
  return server;
};

const mountHono = (web: boolean): Mount => async (gatehouse) => {
  const options = web ? { remoteAddress: () => '127.0.0.1' } : {};
  const app = new Hono<GatehouseEnv>();
  app.use(honoAuth(gatehouse, options));
  for (const path of PUBLIC_ROUTES) app.get(path, (c) => c.json({ public: true }));
  for (const [path, route] of Object.entries(GUARDED_ROUTES)) {
    app.on([...route.methods], path, honoGuard(gatehouse, { ...route.options, ...options }), (c) => {
      const auth: Auth | null = c.get('auth');
      return c.json({ auth });
    });
  }
  return createAdaptorServer({ fetch: app.fetch }) as Server;
};

const MOUNTS: Record<AdapterName, Mount> = { node: mountNode, express: mountExpress, fastify: mountFastify, hono: mountHono(false), 'hono-web': mountHono(true) };

/**
 * One application per adapter, the same in every way that matters: Gatehouse
 * on `/auth/*` over a real SQLite file in a fresh temporary directory, a
 * manual clock, users alice (role `user`) and bob, the {@link GUARDED_ROUTES}
 * and {@link PUBLIC_ROUTES}, real HTTP over loopback. The refresh cookie has
 * `Path=/` so that transparent refresh can be tried.
 */
export async function startAdapterServer(adapter: AdapterName, options: AppOptions = {}): Promise<AdapterServer> {
  return serveApp(adapter, MOUNTS[adapter], options);
}

export interface AppOptions {
  /** How access tokens are signed; default HS256. */
  readonly signingAlgorithm?: 'HS256' | 'EdDSA' | 'ES256' | 'RS256';
}

/**
 * Gatehouse over a real SQLite file with users alice (role `user`), bob and
 * carol (role `admin`), behind whatever server `mount` builds, on loopback.
 */
export async function serveApp(adapter: AdapterName, mount: (gatehouse: Gatehouse) => Promise<Server>, options: AppOptions = {}): Promise<AdapterServer> {
  const dataDir = await mkdtemp(join(tmpdir(), `gatehouse-${adapter}-`));
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const config = resolveConfig({
    secret: TEST_SECRET,
    dataDir,
    publicOrigin: APP_ORIGIN,
    logLevel: 'silent',
    cookies: { refreshPath: '/' },
    signing: { algorithm: options.signingAlgorithm ?? 'HS256' },
  });
  const gatehouse = await createGatehouse({ config, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });
  await gatehouse.auth.createUser({ ...BOB });
  await gatehouse.auth.createUser({ ...CAROL, roles: ['admin'] });
  const server = await mount(gatehouse);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    adapter,
    gatehouse,
    clock,
    baseURL,
    browser: (options) => new TestBrowser(baseURL, options?.origin === undefined ? APP_ORIGIN : options.origin),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gatehouse.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
