import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createNodeServer, nodeGuard, readNodeJSONBody, sendError, sendJSON } from '../../src/http/node.js';
import { GatehouseError } from '../../src/core/errors.js';
import type { GuardOptions } from '../../src/http/guard.js';
import { TestBrowser } from './test-browser.js';

/** The origin the test server believes it is served from; test browsers send it as `Origin`. */
export const APP_ORIGIN = 'http://localhost:8080';
export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const ALICE = { username: 'alice', password: 'correct horse battery staple' } as const;
export const BOB = { username: 'bob', password: 'another long passphrase' } as const;

export interface TestServer {
  readonly gatehouse: Gatehouse;
  readonly clock: ManualClock;
  readonly baseURL: string;
  readonly dataDir: string;
  /** A fresh cookie-keeping client that behaves like a same-origin page. */
  browser(options?: { origin?: string | null }): TestBrowser;
  close(): Promise<void>;
}

/**
 * Gatehouse on real HTTP over loopback with a real SQLite file in a fresh
 * temporary directory, a manual clock, users alice (role `user`) and bob, and
 * a few guarded routes under /api:
 * - `GET|POST /api/private` — session required
 * - `GET /api/admin` — role `admin` required
 * - `POST /api/guest` — anonymous allowed (anonymous CSRF token)
 * - `POST /api/webhook` — CSRF skipped
 * - `GET|POST /api/transparent` — transparent refresh (only when config sets cookies.refreshPath "/")
 * - `GET|POST /api/notes` — session required; POST `{"text": "…"}` (JSON only) adds a note, GET lists the user's notes
 */
export async function startTestServer(config: ConfigInput = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-'));
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const resolved = resolveConfig({ secret: TEST_SECRET, dataDir, publicOrigin: APP_ORIGIN, logLevel: 'silent', ...config });
  const gatehouse = await createGatehouse({ config: resolved, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });
  await gatehouse.auth.createUser({ ...BOB });

  const guards: Record<string, (req: Parameters<ReturnType<typeof nodeGuard>>[0], res: Parameters<ReturnType<typeof nodeGuard>>[1]) => ReturnType<ReturnType<typeof nodeGuard>>> = {
    '/api/private': nodeGuard(gatehouse),
    '/api/admin': nodeGuard(gatehouse, { roles: ['admin'] }),
    '/api/guest': nodeGuard(gatehouse, { allowAnonymous: true }),
    '/api/webhook': nodeGuard(gatehouse, { csrf: 'skip' }),
  };
  if (resolved.cookies.refreshPath === '/') {
    guards['/api/transparent'] = nodeGuard(gatehouse, { transparentRefresh: true } satisfies GuardOptions);
  }
  const requireUser = nodeGuard(gatehouse);
  const notes = new Map<string, string[]>();
  const server = createNodeServer(gatehouse, {
    async fallback(req, res) {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api/notes') {
        // A state-changing app route, built the way a library user would build one.
        try {
          if (req.method !== 'GET' && req.method !== 'POST') throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: 'GET, POST' } });
          const auth = await requireUser(req, res);
          if (auth === undefined || auth === null) return;
          const mine = notes.get(auth.user.id) ?? [];
          if (req.method === 'GET') return await sendJSON(res, 200, { notes: mine });
          const text = ((await readNodeJSONBody(req, { limitBytes: 4096 })) as { text?: unknown } | null)?.text;
          if (typeof text !== 'string' || text === '') throw new GatehouseError('VALIDATION_FAILED');
          notes.set(auth.user.id, [...mine, text]);
          return await sendJSON(res, 201, { notes: notes.get(auth.user.id) });
        } catch (error) {
          if (!res.headersSent) await sendError(res, error);
          return;
        }
      }
      const guard = guards[path];
      if (guard === undefined) return sendJSON(res, 404, { error: { code: 'NOT_FOUND', message: 'Not found.' } });
      const auth = await guard(req, res);
      if (auth === undefined) return;
      req.resume();
      await sendJSON(res, 200, { auth });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    gatehouse,
    clock,
    baseURL,
    dataDir,
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
