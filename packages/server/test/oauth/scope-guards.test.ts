/**
 * `requireScope` in every adapter (node:http, Express, Fastify, Hono), each
 * also answering the OAuth endpoints: a machine token with the scope passes
 * and the handler sees the client and its scopes; one without it, a user's
 * token, and no token are refused. Machine tokens here are HS256 (the
 * default), signed by a key of their own.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gatehouse } from '../../src/gatehouse.js';
import { expressAuth, expressGuard } from '../../src/http/express.js';
import { fastifyGuard, gatehouseFastify } from '../../src/http/fastify.js';
import type { Auth, GuardOptions } from '../../src/http/guard.js';
import { honoAuth, honoGuard, type GatehouseEnv } from '../../src/http/hono.js';
import { ALICE, formPost, startOAuthServer, type OAuthTestServer } from './oauth-server.js';

const SCOPED: GuardOptions = { requireScope: ['reports:read'] };
const show = (auth: Auth | null | undefined) => ({ client: auth?.client ?? null, scopes: auth?.scopes ?? [], user: auth?.user.id ?? null });

async function mountExpress(gatehouse: Gatehouse): Promise<Server> {
  const app = express();
  app.use(expressAuth(gatehouse));
  app.get('/api/reports', expressGuard(gatehouse, SCOPED), (req, res) => void res.json(show(req.auth)));
  return createServer(app);
}

async function mountFastify(gatehouse: Gatehouse): Promise<Server> {
  let server: Server | undefined;
  const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
  await app.register(gatehouseFastify, { gatehouse });
  app.get('/api/reports', { onRequest: fastifyGuard(gatehouse, SCOPED) }, async (request) => show(request.auth));
  await app.ready();
  if (server === undefined) throw new Error('no server');
  return server;
}

async function mountHono(gatehouse: Gatehouse): Promise<Server> {
  const app = new Hono<GatehouseEnv>();
  app.use(honoAuth(gatehouse));
  app.get('/api/reports', honoGuard(gatehouse, SCOPED), (c) => c.json(show(c.get('auth'))));
  return createAdaptorServer({ fetch: app.fetch }) as Server;
}

let server: OAuthTestServer;
let secret: string;
const origins: Record<string, string> = {};
const servers: Server[] = [];

beforeAll(async () => {
  server = await startOAuthServer();
  secret = (await server.addClient({ id: 'reports-job', type: 'machine', scopes: ['reports:read', 'other'] })) ?? '';
  origins['node'] = server.origin; // the node:http server of oauth-server.ts guards /api/reports the same way
  for (const [name, mount] of Object.entries({ express: mountExpress, fastify: mountFastify, hono: mountHono })) {
    const s = await mount(server.gatehouse);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
    origins[name] = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
});
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => { s.close(resolve); s.closeAllConnections(); });
  await server?.close();
});

describe.each(['node', 'express', 'fastify', 'hono'])('requireScope on %s', (adapter) => {
  const origin = () => origins[adapter] ?? '';
  const token = async (scope: string) => {
    // Through this adapter's own OAuth routes.
    const response = await formPost(`${origin()}/oauth/token`, { grant_type: 'client_credentials', scope }, { authorization: `Basic ${Buffer.from(`reports-job:${secret}`).toString('base64')}` });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const call = (bearer?: string) => fetch(`${origin()}/api/reports`, bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } });

  it('admits a machine token with the scope; the handler sees the client and its scopes', async () => {
    const answer = await call(await token('reports:read'));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ client: 'reports-job', scopes: ['reports:read'], user: 'client:reports-job' });
  });

  it('refuses a machine token without the scope, and a user\'s token (403 INSUFFICIENT_SCOPE)', async () => {
    expect(await (await call(await token('other'))).json()).toMatchObject({ error: { code: 'INSUFFICIENT_SCOPE' } });
    const issued = await server.gatehouse.auth.login(ALICE, { ip: '127.0.0.1', userAgent: null });
    const user = await call(issued.accessToken);
    expect(user.status).toBe(403);
    expect(await user.json()).toMatchObject({ error: { code: 'INSUFFICIENT_SCOPE' } });
  });

  it('refuses no token (401) and a forged one (401 TOKEN_INVALID)', async () => {
    expect((await call()).status).toBe(401);
    const real = await token('reports:read');
    const forged = `${real.slice(0, real.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    expect(await (await call(forged)).json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
  });
});

describe('requireScope without oauth', () => {
  it('is refused when the guard is built (TypeError), so no route is left that nothing could pass', async () => {
    const off = await startOAuthServer({ oauth: { enabled: false } });
    try {
      expect(() => off.gatehouse.guard({ requireScope: ['x'] })).toThrow(TypeError);
      expect(() => server.gatehouse.guard({ requireScope: ['has space'] })).toThrow(TypeError);
    } finally {
      await off.close();
    }
  });
});
