import { loadConfig } from '../config/load.js';
import type { GatehouseConfig } from '../config/resolve.js';
import type { CLIIO } from './io.js';
import type { CLIValues } from './command-line.js';

/** Loads configuration with the command line's flags on top of the file and environment. */
export function configFromFlags(values: CLIValues, io: CLIIO): GatehouseConfig {
  const port = values.port === undefined ? undefined : /^\d+$/.test(values.port) ? Number(values.port) : values.port;
  return loadConfig({
    file: values.config,
    env: io.env,
    cwd: io.cwd,
    overrides: {
      dataDir: values['data-dir'],
      port,
      host: values.host,
      publicOrigin: values['public-origin'],
      trustedOrigins: values['trusted-origin'],
      staticDir: values.static,
    },
  });
}
