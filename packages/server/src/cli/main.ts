import { isGatehouseError } from '../core/errors.js';
import { runAdminCommand } from './admin.js';
import { parseCommandLine } from './command-line.js';
import { CLIUsageError, type CLIIO } from './io.js';
import { runKeysCommand } from './keys.js';
import { generateSecret, serve } from './serve.js';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  serve                                  Run the auth server
  migrate                                Create or upgrade the database schema
  secret generate                        Print a new random secret (base64url, 48 bytes)
  user add <username> [--role R]... --password-stdin
  user disable <username>
  user set-password <username> --password-stdin
  session list <username>
  session revoke <session-id>
  session revoke --user <username>
  keys list                              List the access-token signing keys (asymmetric algorithms)
  keys rotate [--alg ALG] [--now]        Add a signing key; it signs after signing.publishAheadSeconds
  keys generate [--alg ALG]              Print a new private JWK for signing.keysFile
  keys delete <kid>                      Withdraw a (compromised) key at once

Options for every command:
  --config FILE          Config file (default: ./gatehouse.config.json if present)
  --data-dir DIR         Where the embedded database lives (default ./.gatehouse)
  --json                 Machine-readable output

Options for serve:
  --port N  --host ADDR  --public-origin URL  --trusted-origin URL (repeatable)  --static DIR

Environment variables GATEHOUSE_* override the file; flags override both.
See docs/configuration.md.`;

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage or configuration error). */
export async function main(argv: readonly string[], io: CLIIO): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`gatehouse: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (command === undefined) {
    // Called with nothing to do: a usage error, so the usage goes where errors go.
    io.stderr(`gatehouse: no command given\n\n${USAGE}\n`);
    return 2;
  }
  try {
    if (command === 'serve') return await serve(values, rest, io);
    if (command === 'secret' && rest[0] === 'generate' && rest.length === 1) {
      io.stdout(`${generateSecret()}\n`);
      return 0;
    }
    if (command === 'keys') return await runKeysCommand(rest, values, io);
    return await runAdminCommand(command, rest, values, io);
  } catch (error) {
    if (error instanceof CLIUsageError) {
      io.stderr(`gatehouse: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (isGatehouseError(error)) {
      io.stderr(`gatehouse: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' ? 2 : 1;
    }
    io.stderr(`gatehouse: unexpected error: ${(error as Error).message}\n`);
    return 1;
  }
}
