import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CLIUsageError } from './io.js';

/** Every option the CLI knows; each command accepts only those it lists. */
export const OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'public-origin': { type: 'string' },
  'trusted-origin': { type: 'string', multiple: true },
  static: { type: 'string' },
  role: { type: 'string', multiple: true },
  add: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  alg: { type: 'string' },
  now: { type: 'boolean' },
  json: { type: 'boolean' },
  'key-id': { type: 'string' },
  'key-file': { type: 'string' },
  header: { type: 'string', multiple: true },
  data: { type: 'string' },
  'data-file': { type: 'string' },
  'expires-in': { type: 'string' },
  type: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  origin: { type: 'string', multiple: true },
  name: { type: 'string' },
  kind: { type: 'string' },
  overlap: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export type OptionName = keyof typeof OPTIONS;

/** Parsed command-line options, shared by every command. */
export type CLIValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** A command line split into its options and its words (command, sub-command, operands). */
export interface CommandLine {
  readonly values: CLIValues;
  readonly positionals: readonly string[];
}

/** A usage error found while parsing; `words` are the command words read before it, for the hint. */
export class CommandLineError extends CLIUsageError {
  constructor(
    message: string,
    readonly words: readonly string[],
  ) {
    super(message);
  }
}

/**
 * Parses `argv` strictly (an unknown option is an error that names it), except
 * that the operand of a command in `idCommands` (session ids and key ids are
 * base64url: about one in 64 starts with `-`) is taken as it is, whatever its
 * first character. `--` ends the options as usual: everything after it is an operand.
 *
 * @throws CommandLineError for an unknown option or a missing option value.
 * @example
 * parseCommandLine(['session', 'revoke', '-GqMbq0vQ0bqJ3m1c8yT0x', '--json'], new Set(['session revoke'])).positionals
 * // → ['session', 'revoke', '-GqMbq0vQ0bqJ3m1c8yT0x']
 */
export function parseCommandLine(argv: readonly string[], idCommands: ReadonlySet<string>): CommandLine {
  // An id operand is swapped for a placeholder parseArgs reads as a word (a
  // command-line argument can never contain NUL), then swapped back.
  const operands = new Map<string, string>();
  const args = [...argv];
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    const option = knownOption(arg);
    if (option === 'takes-value') i++; // its value, whatever it looks like, belongs to it
    if (option !== 'unknown') continue;
    if (words.length === 2 && idCommands.has(words.join(' '))) {
      const placeholder = `\0operand${i}`;
      operands.set(placeholder, arg);
      args[i] = placeholder;
      words.push(arg);
    }
  }
  try {
    const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    return { values, positionals: positionals.map((word) => operands.get(word) ?? word) };
  } catch (error) {
    throw new CommandLineError(describeParseError(error), words);
  }
}

/** parseArgs explains at length how to pass a word that starts with `-`; one sentence is enough here. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'(-[^' ]*)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /ambiguous/.test(message) ? `${quoted} needs a value (one that starts with "-" goes as ${quoted}=-…)` : `${quoted} needs a value`;
  }
  return message.split('\n')[0] ?? message;
}

/** Whether `arg` (which starts with `-`) is one of OPTIONS, and whether the next argument is its value. */
function knownOption(arg: string): 'takes-value' | 'complete' | 'unknown' {
  const entries = Object.entries(OPTIONS) as [string, { type: 'string' | 'boolean'; short?: string }][];
  if (!arg.startsWith('--')) {
    const short = entries.find(([, o]) => o.short !== undefined && arg === `-${o.short}`);
    return short === undefined ? 'unknown' : short[1].type === 'string' ? 'takes-value' : 'complete';
  }
  const [name, inline] = splitOnce(arg.slice(2), '=');
  const option = entries.find(([n]) => n === name)?.[1];
  if (option === undefined) return 'unknown';
  return option.type === 'string' && inline === undefined ? 'takes-value' : 'complete';
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
