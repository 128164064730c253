import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import type { OptionName } from './command-line.js';

/** What `--help` says about each option: its value's placeholder, if it takes one, and one line. */
const OPTION_HELP: Readonly<Record<OptionName, { readonly value?: string; readonly text: string }>> = {
  config: { value: 'FILE', text: 'Configuration file (default: ./gatehouse.config.json if present)' },
  'data-dir': { value: 'DIR', text: 'Where the embedded database lives (default: ./.gatehouse)' },
  port: { value: 'N', text: 'Port to listen on; 0 picks a free one' },
  host: { value: 'ADDR', text: 'Address to bind' },
  'public-origin': { value: 'URL', text: 'The browser origin of your SPA (browsers from elsewhere are refused)' },
  'trusted-origin': { value: 'URL', text: 'Another origin allowed to call; repeatable' },
  static: { value: 'DIR', text: 'Serve an SPA build from DIR outside /auth' },
  role: { value: 'R', text: 'Give the user role R; repeatable' },
  add: { value: 'R', text: 'Give the user role R; repeatable' },
  remove: { value: 'R', text: 'Take role R away; repeatable' },
  set: { value: 'R', text: "Replace every role with the R given; repeatable; '' alone leaves none" },
  user: { value: 'USERNAME', text: 'End every session of this user (instead of one id)' },
  'password-stdin': { text: 'Read the password from standard input (required)' },
  alg: { value: 'ALG', text: 'EdDSA, ES256 or RS256' },
  now: { text: 'The new key signs at once, not after signing.publishAheadSeconds' },
  json: { text: 'Print the result as one line of JSON' },
  'key-id': { value: 'ID', text: 'The keyid the server knows the signing key by' },
  'key-file': { value: 'FILE', text: 'sign: the shared secret (base64) or Ed25519 private key (PEM); client add: the client\'s public key (PEM, JWK or JWK Set)' },
  header: { value: '"NAME: VALUE"', text: 'A header to send and sign; repeatable' },
  data: { value: 'TEXT', text: 'The body, as given' },
  'data-file': { value: 'FILE', text: 'The body, read from FILE (- for standard input)' },
  'expires-in': { value: 'SECONDS', text: 'How long the signature is valid (default 60)' },
  type: { value: 'TYPE', text: 'native (an app: PKCE, redirect URIs) or machine (client credentials)' },
  'redirect-uri': { value: 'URI', text: 'An exact redirect URI of a native app; repeatable' },
  scope: { value: 'S', text: 'A scope the client (or partner) may be granted; repeatable' },
  origin: { value: 'ORIGIN', text: 'An origin the partner\'s pages run on (scheme://host[:port]); repeatable' },
  name: { value: 'NAME', text: 'The partner\'s display name (default: its id)' },
  kind: { value: 'KIND', text: 'publishable or secret: which key to rotate' },
  overlap: { value: 'SECONDS', text: 'How long the old key keeps working (default partners.rotationOverlapSeconds)' },
  help: { text: 'Show this help' },
  version: { text: 'Print the version' },
};

const COLUMN = 34;

/** Two columns; a left part too wide for its column puts the right one on the next line. */
function row(left: string, right: string): string {
  if (right === '') return `  ${left}`;
  if (left.length > COLUMN - 2) return `  ${left}\n${' '.repeat(COLUMN + 2)}${right}`;
  return `  ${left.padEnd(COLUMN)}${right}`;
}

function commandRows(commands: readonly Command[]): string[] {
  return commands.flatMap((c) => c.usage.map((form, i) => row(form, i === 0 ? c.summary : '')));
}

function optionRow(name: OptionName): string {
  const { value, text } = OPTION_HELP[name];
  const flag = name === 'help' ? '-h, --help' : `--${name}${value === undefined ? '' : ` ${value}`}`;
  return row(flag, text);
}

/** The version of the installed package. */
export function version(): string {
  // src/cli and dist/cli both sit two levels below the package's package.json.
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** `gatehouse --help`: every command, one line each. */
export function generalHelp(commands: readonly Command[]): string {
  return [
    'Usage: gatehouse <command> [options]',
    '',
    'Commands:',
    ...commandRows(commands),
    '',
    'Options:',
    optionRow('help'),
    optionRow('version'),
    '',
    'Run "gatehouse <command> --help" for a command\'s options and an example.',
    'Environment variables GATEHOUSE_* override the configuration file; flags override both.',
    'See docs/cli.md and docs/configuration.md.',
  ].join('\n');
}

/** `gatehouse user --help`: the commands that start with `group`. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [
    `Usage: gatehouse ${group} <command> [options]`,
    '',
    'Commands:',
    ...commandRows(members),
    '',
    `Run "gatehouse ${group} <command> --help" for a command's options and an example.`,
  ].join('\n');
}

/** `gatehouse <command> --help`: its forms, what it does, its options and an example. */
export function commandHelp(command: Command): string {
  return [
    ...command.usage.map((form, i) => `${i === 0 ? 'Usage:' : '      '} gatehouse ${form}`),
    '',
    `${command.summary}.`,
    '',
    'Options:',
    ...[...command.options, 'help' as const].map(optionRow),
    '',
    'Example:',
    `  ${command.example}`,
    '',
    'See docs/cli.md for exit codes and more examples.',
  ].join('\n');
}
