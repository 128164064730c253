import type { AddressInfo } from 'node:net';
import { createGatehouse } from '../gatehouse.js';
import { createNodeServer } from '../http/node.js';
import { createStaticHandler } from '../http/static-files.js';
import { describeStore } from '../store/open-store.js';
import { noOperands } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import { configFromFlags } from './config-from-flags.js';

/** `gatehouse serve`: runs until SIGINT/SIGTERM, then closes connections and the store. */
export const serve: Command = {
  name: 'serve',
  usage: ['serve'],
  summary: 'Run the auth server',
  options: ['port', 'host', 'public-origin', 'trusted-origin', 'static', ...CONFIG_OPTIONS],
  example: 'gatehouse serve --port 8080 --public-origin https://app.example.com --static ./dist',
  async run(operands, values, io) {
    noOperands('serve', operands);
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
  },
};
