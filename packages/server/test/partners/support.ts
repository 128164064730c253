/**
 * A Gatehouse with partners enabled on real HTTP over loopback (a real
 * SQLite file, a manual clock), and partner routes built the way a library
 * user builds them:
 * - `GET|POST|OPTIONS /api/catalog`: any partner key with `catalog:read`
 * - `GET|POST|OPTIONS /api/orders`: a partner key with `orders:write`
 * - `GET|POST /api/private`: a signed-in user's session (the ordinary guard)
 * - `GET /page`: an empty HTML page of the app's own
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { createNodeServer, nodeGuard, sendJSON } from '../../src/http/node.js';
import { nodePartnerGuard } from '../../src/partners/node-guard.js';

export const SECRET = 'partner-test-secret-0123456789-abcdefghijklmnop';
export const APP_ORIGIN = 'http://localhost:8080';
export const USER = { username: 'alice', password: 'correct horse battery staple' } as const;

export interface PartnerServer {
  readonly gatehouse: Gatehouse;
  readonly clock: ManualClock;
  readonly baseURL: string;
  close(): Promise<void>;
}

export async function startPartnerServer(config: ConfigInput = {}, options: { readonly dataDir?: string; readonly syncIntervalMs?: number; readonly host?: string; readonly port?: number; readonly clock?: ManualClock; readonly observe?: (method: string, headers: IncomingHttpHeaders) => void } = {}): Promise<PartnerServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-partners-http-')));
  const clock = options.clock ?? new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const resolved = resolveConfig({ secret: SECRET, dataDir, publicOrigin: APP_ORIGIN, logLevel: 'silent', ...config, partners: { enabled: true, ...config.partners } });
  const gatehouse = await createGatehouse({ config: resolved, clock, logger: createLogger('silent'), revocationSyncIntervalMs: options.syncIntervalMs ?? 50 });
  if ((await gatehouse.store.findUserByUsername(USER.username)) === null) await gatehouse.auth.createUser({ ...USER, roles: [] });
  const routes = {
    '/api/catalog': nodePartnerGuard(gatehouse.partners, { requirePartnerScope: 'catalog:read' }),
    '/api/orders': nodePartnerGuard(gatehouse.partners, { requirePartnerScope: ['orders:write'] }),
  } as const;
  const requireUser = nodeGuard(gatehouse);
  const server = createNodeServer(gatehouse, {
    async fallback(req, res) {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/page') {
        // An empty page of the app's own, for a browser to run first-party fetch calls from.
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>app</title>');
        return;
      }
      if (path === '/api/private') {
        const auth = await requireUser(req, res);
        if (auth === undefined) return;
        req.resume();
        return sendJSON(res, 200, { user: auth?.user.username ?? null });
      }
      const guard = routes[path as keyof typeof routes];
      if (guard === undefined) return sendJSON(res, 404, { error: { code: 'NOT_FOUND', message: 'Not found.' } });
      const partner = await guard(req, res);
      if (partner === undefined) return;
      req.resume();
      return sendJSON(res, 200, { partner: partner.partnerId, keyKind: partner.keyKind, scopes: partner.scopes });
    },
  });
  const { observe } = options;
  // Sees every request as it arrives, before anything answers it.
  if (observe !== undefined) server.prependListener('request', (req) => observe(req.method ?? 'GET', req.headers));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  return {
    gatehouse,
    clock,
    baseURL: `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gatehouse.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
