import { createGatehouse, type Gatehouse } from '../gatehouse.js';
import { createLogger } from '../core/logger.js';
import type { CLIValues } from './command-line.js';
import { configFromFlags } from './config-from-flags.js';
import { CLIUsageError, type CLIIO } from './io.js';

/** Runs `fn` against a Gatehouse on the configured store, then closes it. Admin commands log nothing but errors. */
export async function withGatehouse<T>(values: CLIValues, io: CLIIO, fn: (gatehouse: Gatehouse) => Promise<T>): Promise<T> {
  const config = configFromFlags(values, io);
  const gatehouse = await createGatehouse({ config, logger: createLogger('error') });
  try {
    return await fn(gatehouse);
  } finally {
    await gatehouse.close();
  }
}

/** The password from standard input: never an argument, where `ps` and shell history would show it. */
export async function readPassword(values: CLIValues, io: CLIIO): Promise<string> {
  if (!values['password-stdin']) throw new CLIUsageError('the password is read from standard input: add --password-stdin');
  // One trailing newline is what `echo` adds; anything else is part of the password.
  return (await io.readStdin()).replace(/\r?\n$/, '');
}

/** The one operand a command takes; `what` names it in the usage error. */
export function exactlyOne(operands: readonly string[], what: string): string {
  const [value, ...extra] = operands;
  if (value === undefined || extra.length > 0) throw new CLIUsageError(`expected exactly one ${what}`);
  return value;
}

/** Refuses operands where a command takes none. */
export function noOperands(name: string, operands: readonly string[]): void {
  if (operands.length > 0) throw new CLIUsageError(`${name} takes no arguments, got "${operands.join(' ')}"`);
}

/** Prints a result: one line of JSON with `--json`, else the text. */
export function print(io: CLIIO, values: CLIValues, json: unknown, text: string): void {
  io.stdout(values.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
}
