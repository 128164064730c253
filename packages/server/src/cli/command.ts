import type { CLIValues, OptionName } from './command-line.js';
import type { CLIIO } from './io.js';

/**
 * One `gatehouse` command: what `--help` prints for it and what runs it. The
 * registry in `commands.ts` lists them all; main dispatches on `name`.
 */
export interface Command {
  /** The words that select it, e.g. `session revoke`. */
  readonly name: string;
  /** Its forms, each without the leading `gatehouse `, e.g. `session revoke <session-id>`. */
  readonly usage: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** Options it accepts (every command also takes `--help`); any other is a usage error. */
  readonly options: readonly OptionName[];
  /** Its operand is an id that may begin with `-` (base64url session ids and kids): never read as an option. */
  readonly idOperand?: boolean;
  /** One command line that works, shown by `--help` and found verbatim in docs/cli.md. */
  readonly example: string;
  /** Runs it with the words after its name; returns the exit code. */
  run(operands: readonly string[], values: CLIValues, io: CLIIO): Promise<number>;
}

/** The options of every command that loads the configuration. */
export const CONFIG_OPTIONS = ['config', 'data-dir'] as const satisfies readonly OptionName[];
