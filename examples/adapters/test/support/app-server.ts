import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatehouse, GatehouseError, ManualClock, resolveConfig, type Gatehouse } from '@gatehouse/server';
import { createNodeServer, createStaticHandler, nodeGuard, readNodeJSONBody, sendError, sendJSON } from '@gatehouse/server/node';

/** Address the server binds to; the browser is pointed at `http://localhost:<port>`, which resolves here. */
const LOOPBACK = '127.0.0.1';

/** The user every adapter app signs in as (role `user`, not `admin`). */
export const ALICE = { username: 'alice', password: 'correct horse battery staple' } as const;

export interface AppServer {
  /** `http://localhost:<port>`: a secure context, so Chromium keeps the Secure, `__Host-` cookies. */
  readonly origin: string;
  readonly gatehouse: Gatehouse;
  /** The server's clock; the browser's is real. Advancing it expires access tokens without sleeping. */
  readonly clock: ManualClock;
  close(): Promise<void>;
}

/** A free TCP port on loopback: bind port 0, read it, release it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A real Gatehouse on loopback serving one built adapter app from `staticDir`,
 * with a real SQLite file in a fresh temporary directory, the user
 * {@link ALICE}, and a small notes API guarded the way an app would guard it:
 * `GET /api/notes` lists the user's notes, `POST /api/notes {"text": "…"}`
 * (state-changing, so CSRF-checked) adds one and answers 201.
 */
export async function startAppServer(staticDir: string): Promise<AppServer> {
  let lastError: unknown;
  // The port is chosen before listening (the origin is part of the config); if another process takes it in between, try again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnFreePort(staticDir);
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw lastError;
}

async function startOnFreePort(staticDir: string): Promise<AppServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-adapters-'));
  const clock = new ManualClock(Date.now());
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = resolveConfig({ secret: randomBytes(48).toString('base64url'), dataDir, publicOrigin: origin, logLevel: 'silent' });
  const gatehouse = await createGatehouse({ config, clock });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });

  const requireUser = nodeGuard(gatehouse);
  const serveStatic = createStaticHandler(staticDir);
  const notes = new Map<string, { id: string; text: string }[]>();
  const server = createNodeServer(gatehouse, {
    async fallback(req, res) {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!path.startsWith('/api/')) return serveStatic(req, res);
      try {
        if (path !== '/api/notes') throw new GatehouseError('NOT_FOUND');
        if (req.method !== 'GET' && req.method !== 'POST') throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: 'GET, POST' } });
        const auth = await requireUser(req, res);
        if (auth === undefined || auth === null) return;
        const mine = notes.get(auth.user.id) ?? [];
        if (req.method === 'GET') return await sendJSON(res, 200, { notes: mine });
        const text = ((await readNodeJSONBody(req, { limitBytes: 4096 })) as { text?: unknown } | null)?.text;
        if (typeof text !== 'string' || text === '' || text.length > 200) throw new GatehouseError('VALIDATION_FAILED');
        const note = { id: randomUUID(), text };
        notes.set(auth.user.id, [...mine, note]);
        return await sendJSON(res, 201, { note });
      } catch (error) {
        if (!res.headersSent) await sendError(res, error);
      }
    },
  });
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await gatehouse.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await gatehouse.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  return { origin, gatehouse, clock, close };
}
