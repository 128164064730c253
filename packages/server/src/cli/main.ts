import { isGatehouseError } from '../core/errors.js';
import type { Command } from './command.js';
import { CommandLineError, parseCommandLine, type CLIValues } from './command-line.js';
import { COMMANDS } from './commands.js';
import { commandHelp, generalHelp, groupHelp, version } from './help.js';
import { CLIFailure, CLIUsageError, type CLIIO } from './io.js';

const ID_COMMANDS: ReadonlySet<string> = new Set(COMMANDS.filter((c) => c.idOperand === true).map((c) => c.name));
const GROUPS: ReadonlySet<string> = new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] ?? ''));

/** The command `words` start with, and the words after its name. */
function findCommand(words: readonly string[]): { command: Command; operands: readonly string[] } | undefined {
  for (const command of COMMANDS) {
    const name = command.name.split(' ');
    if (name.every((word, i) => words[i] === word)) return { command, operands: words.slice(name.length) };
  }
  return undefined;
}

/** One line saying what is wrong, one saying where to read more: never the whole manual. */
function usageError(io: CLIIO, message: string, words: readonly string[]): number {
  const command = findCommand(words)?.command.name;
  const group = GROUPS.has(words[0] ?? '') ? words[0] : undefined;
  const hint =
    command !== undefined ? `Run "gatehouse ${command} --help" for its usage and an example.`
    : group !== undefined ? `Run "gatehouse ${group} --help" for the ${group} commands.`
    : 'Run "gatehouse --help" for the list of commands.';
  io.stderr(`gatehouse: ${message}\n${hint}\n`);
  return 2;
}

/** `--help` for the words given: a command's help, a group's list, or the general list. */
function help(words: readonly string[]): string {
  const found = findCommand(words);
  if (found !== undefined) return commandHelp(found.command);
  if (words.length > 0 && GROUPS.has(words[0] ?? '')) return groupHelp(words[0] ?? '', COMMANDS);
  return generalHelp(COMMANDS);
}

/** Options given that the command does not take (`--help` and `--version` are never refused). */
function foreignOptions(command: Command, values: CLIValues): string[] {
  return Object.keys(values).filter((name) => name !== 'help' && name !== 'version' && !(command.options as readonly string[]).includes(name));
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage or configuration error). */
export async function main(argv: readonly string[], io: CLIIO): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, ID_COMMANDS);
  } catch (error) {
    if (error instanceof CommandLineError) return usageError(io, error.message, error.words);
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (values.help || positionals[0] === 'help') {
    io.stdout(`${help(values.help ? positionals : positionals.slice(1))}\n`);
    return 0;
  }
  if (positionals.length === 0) return usageError(io, 'no command given', positionals);
  const found = findCommand(positionals);
  if (found === undefined) return usageError(io, `unknown command "${positionals.join(' ')}"`, positionals);
  const { command, operands } = found;
  const foreign = foreignOptions(command, values);
  if (foreign.length > 0) return usageError(io, `${foreign.map((o) => `--${o}`).join(', ')} is not an option of ${command.name}`, positionals);
  try {
    return await command.run(operands, values, io);
  } catch (error) {
    if (error instanceof CLIUsageError) return usageError(io, error.message, positionals);
    if (error instanceof CLIFailure) {
      io.stderr(`gatehouse: ${error.message}\n`);
      return 1;
    }
    if (isGatehouseError(error)) {
      io.stderr(`gatehouse: ${error.code}: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' ? 2 : 1;
    }
    io.stderr(`gatehouse: unexpected error: ${(error as Error).message}\n`);
    return 1;
  }
}
