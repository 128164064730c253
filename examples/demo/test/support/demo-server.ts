import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@gatehouse/server';
import { createDemo, type Demo } from '../../src/demo-app.js';

/** The wall clock plus an offset the test moves: tokens expire without waiting for them. */
export class ShiftedClock implements Clock {
  #offsetMs = 0;
  now(): number {
    return Date.now() + this.#offsetMs;
  }
  /** From now on the server believes it is `ms` milliseconds later than it is. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

export interface DemoOptions {
  /** The server's clock (default: the wall clock). */
  readonly clock?: Clock;
  /** Extra configuration, such as a short access-token lifetime. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Address the demo binds to. Browsers are pointed at `http://localhost:<port>`, which resolves here. */
const LOOPBACK = '127.0.0.1';

export interface RunningDemo {
  readonly demo: Demo;
  /** `http://localhost:<port>`: a secure context, so Chromium keeps the Secure, `__Host-` cookies. */
  readonly origin: string;
  readonly credentials: Demo['credentials'];
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

async function listen(demo: Demo, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    demo.server.once('error', onError);
    demo.server.listen(port, LOOPBACK, () => {
      demo.server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The demo exactly as `npm start` builds it, in a fresh temporary data
 * directory, listening on loopback. The public origin must be known before
 * the config is built (it is the trusted Origin and decides cookie prefixes),
 * so a free port is picked first; in the unlikely event another process takes
 * it in between, we try again with a new one.
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-demo-browser-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const demo = await createDemo({
      dataDir,
      env: {},
      overrides: { port, host: LOOPBACK, publicOrigin: origin, logLevel: 'silent', ...options.overrides },
      // Any free port for the Demo IdP: tests run side by side.
      idpPort: 0,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    try {
      await listen(demo, port);
    } catch (error) {
      lastError = error;
      await demo.close().catch(() => {});
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      break;
    }
    return {
      demo,
      origin,
      credentials: demo.credentials,
      async close() {
        await demo.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastError;
}
