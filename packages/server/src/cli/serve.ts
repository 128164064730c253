import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createGatehouse } from '../gatehouse.js';
import { createNodeServer } from '../http/node.js';
import { createStaticHandler } from '../http/static-files.js';
import { describeStore } from '../store/open-store.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIUsageError, type CLIIO } from './io.js';
import type { CLIValues } from './command-line.js';

/** A new random secret: 48 bytes from the CSPRNG, base64url. */
export function generateSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** `gatehouse serve`: runs until SIGINT/SIGTERM, then closes connections and the store. */
export async function serve(values: CLIValues, rest: readonly string[], io: CLIIO): Promise<number> {
  if (rest.length > 0) throw new CLIUsageError(`serve takes no arguments, got "${rest.join(' ')}"`);
  const config = configFromFlags(values, io);
  // Listen for SIGINT/SIGTERM from here on, so a stop request during start-up shuts down cleanly instead of killing the process.
  const stopSignal = io.stopSignal;
  const gatehouse = await createGatehouse({ config });
  const server = createNodeServer(gatehouse, config.staticDir === undefined ? {} : { fallback: createStaticHandler(config.staticDir) });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (error) {
    // Port taken, address not available: close the store before reporting.
    await gatehouse.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  gatehouse.logger.info({ port, host: config.host, publicOrigin: config.publicOrigin, database: describeStore(config) }, 'gatehouse listening');
  const signal = await stopSignal;
  gatehouse.logger.info({ signal }, 'shutting down');
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await gatehouse.close();
  return 0;
}
