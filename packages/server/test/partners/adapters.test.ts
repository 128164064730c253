/**
 * The partner guard in every adapter (node:http, Express, Fastify, Hono),
 * over real HTTP on loopback, on one Gatehouse: the handler sees the partner
 * and the key kind, the response carries CORS for the registered origin,
 * preflights are answered, refusals keep their codes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressPartnerGuard } from '../../src/http/express.js';
import { fastifyPartnerGuard } from '../../src/http/fastify.js';
import { honoPartnerGuard, type PartnerEnv } from '../../src/http/hono.js';
import { nodePartnerGuard } from '../../src/http/node.js';
import type { PartnerServices } from '../../src/partners/partners.js';
import { startPartnerServer, type PartnerServer } from './support.js';

type Adapter = 'node' | 'express' | 'fastify' | 'hono';
const SHOP = 'https://shop.acme.test';

async function mount(adapter: Adapter, partners: PartnerServices): Promise<Server> {
  const options = { requirePartnerScope: 'catalog:read' };
  switch (adapter) {
    case 'node': {
      const guard = nodePartnerGuard(partners, options);
      return createServer((req, res) => {
        void guard(req, res).then((partner) => {
          if (partner === undefined) return;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ partner: partner.partnerId, keyKind: partner.keyKind }));
        });
      });
    }
    case 'express': {
      const app = express();
      app.use('/api/items', expressPartnerGuard(partners, options));
      app.get('/api/items', (req, res) => res.json({ partner: req.partner?.partnerId, keyKind: req.partner?.keyKind }));
      return createServer(app);
    }
    case 'fastify': {
      let server: Server | undefined;
      const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
      app.route({
        method: ['GET', 'OPTIONS'],
        url: '/api/items',
        onRequest: fastifyPartnerGuard(partners, options),
        handler: async (request) => ({ partner: request.partner?.partnerId, keyKind: request.partner?.keyKind }),
      });
      await app.ready();
      if (server === undefined) throw new Error('Fastify built no server');
      return server;
    }
    case 'hono': {
      const app = new Hono<PartnerEnv>();
      app.use('/api/items', honoPartnerGuard(partners, options));
      app.get('/api/items', (c) => c.json({ partner: c.get('partner').partnerId, keyKind: c.get('partner').keyKind }));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
  }
}

let gatehouse: PartnerServer;
let keys: { publishableKey: string; secretKey: string };

beforeAll(async () => {
  gatehouse = await startPartnerServer();
  keys = await gatehouse.gatehouse.partners.admin.add({ id: 'acme', origins: [SHOP], scopes: ['catalog:read'] });
  await gatehouse.gatehouse.partners.registry?.sync();
});
afterAll(async () => {
  await gatehouse?.close();
});

describe.each(['node', 'express', 'fastify', 'hono'] as const)('the partner guard on %s', (adapter) => {
  let server: Server;
  let base: string;
  const get = async (headers: Record<string, string>, method = 'GET') => {
    const response = await fetch(`${base}/api/items`, { method, headers });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };

  beforeAll(async () => {
    server = await mount(adapter, gatehouse.gatehouse.partners);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('hands the partner and key kind to the handler and puts CORS for the origin on its response', async () => {
    const sent = await get({ 'x-gatehouse-key': keys.publishableKey, origin: SHOP });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ partner: 'acme', keyKind: 'publishable' });
    expect(sent.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(sent.headers.get('access-control-allow-credentials')).toBe('true');
    expect(sent.headers.get('vary')).toMatch(/Origin/);
    const secret = await get({ 'x-gatehouse-key': keys.secretKey });
    expect([secret.status, secret.body, secret.headers.get('access-control-allow-origin')]).toEqual([200, { partner: 'acme', keyKind: 'secret' }, null]);
  });

  it('answers a preflight from the registered origin and refuses one from elsewhere', async () => {
    const ok = await get({ origin: SHOP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-gatehouse-key' }, 'OPTIONS');
    expect([ok.status, ok.headers.get('access-control-allow-origin')]).toEqual([204, SHOP]);
    const refused = await get({ origin: 'https://evil.test', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([403, null]);
  });

  it('refuses an unregistered origin, a missing key and a secret key from a page, with their codes', async () => {
    const code = async (headers: Record<string, string>) => {
      const sent = await get(headers);
      return [sent.status, (sent.body?.['error'] as { code?: string } | undefined)?.code];
    };
    expect(await code({ 'x-gatehouse-key': keys.publishableKey, origin: 'https://evil.test' })).toEqual([403, 'PARTNER_ORIGIN_REJECTED']);
    expect(await code({ origin: SHOP })).toEqual([401, 'PARTNER_KEY_MISSING']);
    expect(await code({ 'x-gatehouse-key': keys.secretKey, origin: SHOP })).toEqual([403, 'PARTNER_SECRET_KEY_IN_BROWSER']);
  });
});

describe('building a partner guard', () => {
  it('throws at build time when partners are not enabled, and for a malformed scope', async () => {
    const disabled = { admin: gatehouse.gatehouse.partners.admin, registry: null, gate: null, close: async () => undefined } satisfies PartnerServices;
    expect(() => nodePartnerGuard(disabled)).toThrow(/partners.enabled is false/);
    expect(() => honoPartnerGuard(disabled)).toThrow(TypeError);
    expect(() => expressPartnerGuard(gatehouse.gatehouse.partners, { requirePartnerScope: 'two words' })).toThrow(/not a scope/);
  });
});
