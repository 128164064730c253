import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGatehouse, GatehouseError, loadConfig, type Clock, type Gatehouse } from '@gatehouse/server';
import { createGateway } from '@gatehouse/server/gateway';
import { createNodeServer, createStaticHandler, nodeGuard, readNodeJSONBody, sendError, sendJSON } from '@gatehouse/server/node';
import { startUpstreamAPI } from './upstream-api.js';

/** The demo's static SPA (examples/demo/public). */
export const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');

/**
 * The browser SDK's build (packages/client/dist), served as plain ES modules
 * under /sdk/: the SPA imports it with no bundler and no inline import map.
 */
export const SDK_DIR = dirname(fileURLToPath(import.meta.resolve('@gatehouse/client')));
const SDK_PREFIX = '/sdk/';

export interface DemoOptions {
  readonly dataDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra config on top of the environment (tests use short lifetimes). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly clock?: Clock;
  /**
   * Port of the Demo IdP (on 127.0.0.1). Default: `DEMO_IDP_PORT`, else the
   * demo's port + 1 (any free port when that one is taken, or when the demo's is 0).
   */
  readonly idpPort?: number;
}

/** The gateway route of the demo's upstream API, and the audience of the identity it receives. */
export const UPSTREAM_PREFIX = '/api/upstream';
export const UPSTREAM_AUDIENCE = 'demo-upstream';

export interface Demo {
  readonly gatehouse: Gatehouse;
  readonly server: Server;
  readonly credentials: { readonly username: string; readonly password: string };
  /** The local OpenID provider ("Sign in with Demo IdP") and its one account. */
  readonly idp: { readonly issuer: string; readonly credentials: { readonly username: string; readonly password: string } };
  /** The upstream API behind the gateway route {@link UPSTREAM_PREFIX}. */
  readonly upstream: { readonly url: string };
  close(): Promise<void>;
}

interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

const MAX_NOTES_PER_USER = 50;

/** Makes sure the data directory holds a secret (created once, owner-readable only). */
function ensureSecret(dataDir: string): void {
  const path = join(dataDir, 'secret');
  if (existsSync(path)) return;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
}

/** Creates the demo user on first start and remembers its generated password in the data directory. */
async function ensureDemoUser(gatehouse: Gatehouse, dataDir: string): Promise<{ username: string; password: string }> {
  const path = join(dataDir, 'demo-credentials.json');
  if (existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { username: string; password: string };
    if ((await gatehouse.store.findUserByUsername(saved.username)) !== null) return saved;
  }
  const credentials = { username: 'demo', password: randomBytes(12).toString('base64url') };
  if ((await gatehouse.store.findUserByUsername(credentials.username)) === null) {
    await gatehouse.auth.createUser({ ...credentials, roles: ['user'] });
  } else {
    await gatehouse.auth.setPassword(credentials.username, credentials.password);
  }
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

/** Where a server on this machine reaches the demo's server (its bound address; loopback for a wildcard bind). */
function listeningOrigin(server: Server | undefined): string {
  const address = server?.address() as AddressInfo | null | undefined;
  if (address === null || address === undefined) throw new Error('The demo server is not listening yet.');
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * The demo: Gatehouse on the embedded default, a small notes API guarded the
 * way a library user would guard theirs, and the SPA, all on one origin.
 */
export async function createDemo(options: DemoOptions): Promise<Demo> {
  ensureSecret(options.dataDir);
  const env = options.env ?? {};
  const baseOverrides = { dataDir: options.dataDir, staticDir: PUBLIC_DIR };
  // Read once without the demo's additions: publicOrigin, the port and the issuer decide how the rest is wired.
  const base = loadConfig({ env, overrides: { ...baseOverrides, ...options.overrides } });

  // The Demo IdP must know Gatehouse's redirect URI, and Gatehouse the IdP's issuer (its port): the IdP starts first.
  const { startDemoIdP } = await import('./demo-idp.js');
  const envIdPPort = Number.parseInt(env['DEMO_IDP_PORT'] ?? '', 10);
  const idpPort = options.idpPort ?? (Number.isInteger(envIdPPort) ? envIdPPort : base.port === 0 ? 0 : base.port + 1);
  const idp = await startDemoIdP({ dataDir: options.dataDir, gatehouseOrigin: base.publicOrigin, preferredPort: idpPort });

  // The upstream fetches Gatehouse's JWKS where Gatehouse listens, known once the demo's server is up.
  let server: Server | undefined;
  const upstream = await startUpstreamAPI({
    issuer: base.accessToken.issuer,
    audience: UPSTREAM_AUDIENCE,
    jwksURL: () => new URL('/.well-known/jwks.json', listeningOrigin(server)),
  });

  const config = loadConfig({
    env,
    overrides: {
      ...baseOverrides,
      // Upstreams verify the forwarded identity with the published keys: the demo needs an asymmetric algorithm.
      'signing.algorithm': base.signing.algorithm === 'HS256' ? 'EdDSA' : base.signing.algorithm,
      'gateway.routes': [{ prefix: UPSTREAM_PREFIX, upstream: upstream.url, audience: UPSTREAM_AUDIENCE, stripPrefix: true }],
      'oidc.providers': [idp.providerConfig],
      ...options.overrides,
    },
  });
  let gatehouse: Gatehouse;
  try {
    gatehouse = await createGatehouse(options.clock === undefined ? { config } : { config, clock: options.clock });
  } catch (error) {
    await Promise.all([upstream.close(), idp.close()]);
    throw error;
  }
  const credentials = await ensureDemoUser(gatehouse, options.dataDir);
  const gateway = await createGateway(gatehouse);

  const requireUser = nodeGuard(gatehouse);
  // Notes are kept in memory: the demo is about the session, not the data.
  const notes = new Map<string, Note[]>();
  const serveStatic = createStaticHandler(PUBLIC_DIR);
  const serveSDK = createStaticHandler(SDK_DIR);

  const demoAPI = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith(SDK_PREFIX) && path.endsWith('.js')) {
      req.url = path.slice(SDK_PREFIX.length - 1);
      return serveSDK(req, res);
    }
    if (!path.startsWith('/api/')) return serveStatic(req, res);
    try {
      if (path === '/api/profile' && (req.method === 'GET' || req.method === 'HEAD')) {
        const auth = await requireUser(req, res);
        if (auth === undefined || auth === null) return;
        // Times travel as ISO instants; the page shows them in the viewer's locale and time zone.
        // How this session began: a provider's sign-in leaves a provider session next to it.
        const providerSession = await gatehouse.store.findProviderSession(auth.sessionId);
        const provider = gatehouse.config.oidc.providers.find((entry) => entry.id === providerSession?.providerId);
        const signedInWith = providerSession === null ? null : { provider: providerSession.providerId, displayName: provider?.displayName ?? providerSession.providerId };
        return sendJSON(res, 200, {
          user: auth.user,
          greeting: `Hello, ${auth.user.username}!`,
          accessTokenExpiresAt: new Date(auth.expiresAt).toISOString(),
          signedInWith,
        });
      }
      if (path === '/api/notes' && (req.method === 'GET' || req.method === 'POST')) {
        const auth = await requireUser(req, res);
        if (auth === undefined || auth === null) return;
        const mine = notes.get(auth.user.id) ?? [];
        if (req.method === 'GET') return sendJSON(res, 200, { notes: mine });
        const body = await readNodeJSONBody(req, { limitBytes: 4096 });
        const text = (body as { text?: unknown } | null)?.text;
        if (typeof text !== 'string' || text.trim() === '' || text.length > 500) {
          throw new GatehouseError('VALIDATION_FAILED', { message: 'text must be 1 to 500 characters.' });
        }
        const note = { id: randomUUID(), text: text.trim(), createdAt: new Date().toISOString() };
        notes.set(auth.user.id, [note, ...mine].slice(0, MAX_NOTES_PER_USER));
        return sendJSON(res, 201, { note });
      }
      throw new GatehouseError(path === '/api/profile' || path === '/api/notes' ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND');
    } catch (error) {
      if (!res.headersSent) await sendError(res, error);
    }
  };
  // The gateway answers /api/upstream/…; everything else is the demo's own API and the SPA.
  server = createNodeServer(gatehouse, { fallback: gateway.handler(demoAPI) });
  server.on('upgrade', gateway.upgrade);
  const listening = server;

  return {
    gatehouse,
    server: listening,
    credentials,
    idp: { issuer: idp.issuer, credentials: idp.credentials },
    upstream: { url: upstream.url },
    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeAllConnections();
      });
      await gatehouse.close();
      await Promise.all([upstream.close(), idp.close()]);
    },
  };
}
