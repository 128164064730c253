/**
 * Gatehouse with `oauth.enabled` on real HTTP over loopback, its public
 * origin the server's own address (so the metadata's issuer and endpoints
 * are where standard clients find them), a real SQLite file, a manual clock,
 * user alice, a guarded `GET /api/private` that echoes the user, and `GET /api/reports`
 * for machine clients with scope `reports:read`.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { createNodeServer, nodeGuard, sendJSON } from '../../src/http/node.js';
import { registerClient, type NewClientInput } from '../../src/oauth/client-registry.js';
import { ALICE, TEST_SECRET } from '../support/test-server.js';

export { ALICE };

export interface OAuthTestServer {
  readonly gatehouse: Gatehouse;
  readonly clock: ManualClock;
  /** `http://127.0.0.1:<port>`: the public origin and the issuer. */
  readonly origin: string;
  /** Registers a client; returns its secret for a machine client without a key. */
  addClient(input: NewClientInput): Promise<string | null>;
  close(): Promise<void>;
}

export async function startOAuthServer(config: ConfigInput = {}): Promise<OAuthTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-oauth-'));
  // The port is known before Gatehouse is configured: the outer server listens first and hands requests to Gatehouse's.
  const outer: Server = createServer();
  await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(outer.address() as AddressInfo).port}`;
  const clock = new ManualClock(Date.now());
  const resolved = resolveConfig({ secret: TEST_SECRET, dataDir, publicOrigin: origin, logLevel: 'silent', ...config, oauth: { enabled: true, ...config.oauth } });
  const gatehouse = await createGatehouse({ config: resolved, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });
  const requireUser = nodeGuard(gatehouse);
  const requireReports = resolved.oauth.enabled ? nodeGuard(gatehouse, { requireScope: ['reports:read'] }) : null;
  const inner = createNodeServer(gatehouse, {
    async fallback(req, res) {
      const path = new URL(req.url ?? '/', origin).pathname;
      if (path !== '/api/private' && path !== '/api/reports') return sendJSON(res, 404, {});
      if (path === '/api/reports') {
        const machine = requireReports === null ? undefined : await requireReports(req, res);
        if (machine === undefined || machine === null) return requireReports === null ? sendJSON(res, 404, {}) : undefined;
        return sendJSON(res, 200, { client: machine.client, scopes: machine.scopes, user: machine.user.id });
      }
      const auth = await requireUser(req, res);
      if (auth === undefined || auth === null) return;
      await sendJSON(res, 200, { user: auth.user.username, sessionId: auth.sessionId });
    },
  });
  outer.on('request', (req, res) => inner.emit('request', req, res));
  return {
    gatehouse,
    clock,
    origin,
    addClient: async (input) => (await registerClient(gatehouse.store, clock, input)).secret,
    async close() {
      await new Promise<void>((resolve) => {
        outer.close(() => resolve());
        outer.closeAllConnections();
      });
      await gatehouse.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A form post, as a page of `origin` would send it. */
export function formPost(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/**
 * The browser leg without a browser: loads the sign-in page, posts the form
 * with its cookie from its own origin, and returns the redirect's Location
 * (or the page's answer when there is none).
 */
export async function signIn(server: { readonly origin: string }, authorizeURL: string, credentials: { username: string; password: string } = ALICE): Promise<{ status: number; location: string | null; page: Response }> {
  const page = await fetch(authorizeURL, { redirect: 'manual' });
  if (page.status !== 200) return { status: page.status, location: page.headers.get('location'), page };
  const html = await page.text();
  const sealed = /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const answer = await formPost(`${server.origin}/oauth/authorize`, { request: sealed, ...credentials, action: 'allow' }, { cookie, origin: server.origin });
  return { status: answer.status, location: answer.headers.get('location'), page: answer };
}
