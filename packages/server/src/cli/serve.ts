import { createGatehouse } from '../gatehouse.js';
import { listen, ListenError, unmatchedLocalOrigin } from '../http/listen.js';
import { createNodeServer } from '../http/node.js';
import { createStaticHandler } from '../http/static-files.js';
import { describeStore } from '../store/open-store.js';
import { noOperands } from './admin-support.js';
import { CONFIG_OPTIONS, type Command } from './command.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIFailure } from './io.js';
import { openServedRoutes, type ServedRoutes } from './serve-gateway.js';

/** What to do about a port or address that cannot be used, in the CLI's terms. */
function listenAdvice(error: ListenError): string {
  if (error.code === 'EADDRNOTAVAIL') return `${error.message}: pick another with --host ADDR (or GATEHOUSE_HOST)`;
  return `${error.message}: pick another with --port N (or GATEHOUSE_PORT), and a --public-origin (GATEHOUSE_PUBLIC_ORIGIN) to match`;
}

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
    let routes: ServedRoutes;
    try {
      routes = await openServedRoutes(gatehouse, config.staticDir === undefined ? undefined : createStaticHandler(config.staticDir));
    } catch (error) {
      await gatehouse.close();
      throw error;
    }
    const server = createNodeServer(gatehouse, routes.fallback === undefined ? {} : { fallback: routes.fallback });
    routes.attach(server);
    let port: number;
    try {
      port = await listen(server, config.port, config.host);
    } catch (error) {
      // Close the store before reporting.
      await routes.close();
      await gatehouse.close();
      throw error instanceof ListenError ? new CLIFailure(listenAdvice(error)) : error;
    }
    const served = unmatchedLocalOrigin(config.publicOrigin, port);
    if (served !== null) {
      gatehouse.logger.warn(
        { port, publicOrigin: config.publicOrigin },
        `publicOrigin is ${config.publicOrigin} but the server listens on port ${port}: browsers on ${served} will be refused (ORIGIN_REJECTED); ` +
          `pass --public-origin ${served} (or set GATEHOUSE_PUBLIC_ORIGIN)`,
      );
    }
    // The start-up line comes last, so whoever waits for it has seen every warning.
    gatehouse.logger.info({ port, host: config.host, publicOrigin: config.publicOrigin, database: describeStore(config) }, 'gatehouse listening');
    const signal = await stopSignal;
    gatehouse.logger.info({ signal }, 'shutting down');
    await routes.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await gatehouse.close();
    return 0;
  },
};
