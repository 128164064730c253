import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS, parseCommandLine } from '../../src/cli/command-line.js';
import { COMMANDS } from '../../src/cli/commands.js';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const CLI_DOC = readFileSync(fileURLToPath(new URL('../../../../docs/cli.md', import.meta.url)), 'utf8');

/** Runs the CLI in-process with no configuration at all: help and usage errors need none. */
async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => 'correct horse battery staple',
    env: {},
    cwd: '/nonexistent',
    stopSignal: new Promise<string>(() => undefined),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The words of an example after `gatehouse`, up to a shell redirection. */
function exampleArgs(example: string): string[] {
  const after = example.slice(example.indexOf('gatehouse ') + 'gatehouse '.length);
  return after.split(' > ')[0]!.split(' ').filter((word) => word !== '');
}

describe('usage errors', () => {
  it.each([
    [['frobnicate'], '--help'],
    [[], '--help'],
    [['user'], 'user --help'],
    [['user', 'remove', 'alice'], 'user --help'],
    [['session', 'kill', 'x'], 'session --help'],
    [['secret'], 'secret --help'],
    [['secret', 'generate', 'extra'], 'secret generate --help'],
    [['migrate', 'now'], 'migrate --help'],
    [['serve', 'extra'], 'serve --help'],
    [['user', 'add', 'alice'], 'user add --help'],
    [['user', 'add', 'alice', '--password-stdin', '--colour'], 'user add --help'],
    [['session', 'list', 'alice', '--port'], 'session list --help'],
    [['session', 'list', 'alice', '--port', '8080'], 'session list --help'],
    [['keys', 'list', '--now'], 'keys list --help'],
    [['secret', 'generate', '--data-dir', 'x'], 'secret generate --help'],
  ])('%j: exit 2, one line saying what is wrong and a hint to "gatehouse %s"', async (argv, hint) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines, result.stderr).toHaveLength(3);
    expect(lines[0]).toMatch(/^gatehouse: \S/);
    expect(lines[1]).toMatch(new RegExp(`^Run "gatehouse ${hint.replace(/-/g, '\\-')}" for `));
    expect(lines[2]).toBe('');
  });

  it('names the option that is unknown, lacks a value or belongs to another command', async () => {
    expect((await run(['user', 'add', 'alice', '--colour'])).stderr).toMatch(/^gatehouse: unknown option --colour\n/);
    expect((await run(['session', 'list', 'alice', '--port'])).stderr).toMatch(/^gatehouse: --port needs a value\n/);
    expect((await run(['session', 'list', 'alice', '--port', '8080'])).stderr).toMatch(/^gatehouse: --port is not an option of session list\n/);
  });
});

describe('--help', () => {
  it('gatehouse --help, -h and help list every command on stdout and exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const result = await run(argv);
      expect([result.code, result.stderr], argv.join(' ')).toEqual([0, '']);
      expect(result.stdout).toMatch(/^Usage: gatehouse <command> \[options\]\n/);
      for (const command of COMMANDS) for (const form of command.usage) expect(result.stdout).toContain(`  ${form}`);
      expect(result.stdout).toContain('--version');
    }
  });

  it('gatehouse user --help lists the user commands only', async () => {
    const result = await run(['user', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: gatehouse user <command>/);
    expect(result.stdout).toContain('user add <username>');
    expect(result.stdout).not.toContain('session list');
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('gatehouse %s --help: its usage, options and an example', async (name, command) => {
    const result = await run([...name.split(' '), '--help']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout.startsWith(`Usage: gatehouse ${command.usage[0]}\n`), result.stdout).toBe(true);
    const options = /\nOptions:\n([\s\S]*?)\n\n/.exec(result.stdout)?.[1] ?? '';
    const listed = options.match(/--[a-z-]+/g) ?? [];
    expect(listed.sort()).toEqual([...command.options, 'help'].map((o) => `--${o}`).sort());
    expect(result.stdout).toContain(`\nExample:\n  ${command.example}\n`);
    // The same page through `gatehouse help <command>`.
    expect((await run(['help', ...name.split(' ')])).stdout).toBe(result.stdout);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('the example of %s is a valid command line for it', (name, command) => {
    const { values, positionals } = parseCommandLine(exampleArgs(command.example), new Set(COMMANDS.filter((c) => c.idOperand).map((c) => c.name)));
    expect(positionals.slice(0, name.split(' ').length).join(' ')).toBe(name);
    for (const option of Object.keys(values)) expect(command.options, option).toContain(option);
  });
});

describe('--version', () => {
  it('prints the package version and exits 0', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
  });
});

describe('docs/cli.md', () => {
  const headings = CLI_DOC.split('\n').filter((line) => line.startsWith('## '));

  it.each(COMMANDS.map((c) => [c.name, c] as const))('has a section for %s with its example', (_name, command) => {
    for (const form of command.usage) expect(headings.some((h) => h.includes(`\`${form}\``)), `no section for ${form}`).toBe(true);
    const example = command.example.slice(command.example.indexOf('gatehouse '));
    expect(CLI_DOC, 'the example from --help').toContain(example);
  });

  it('documents every option and the exit codes', () => {
    for (const option of Object.keys(OPTIONS)) expect(CLI_DOC, option).toContain(`| \`--${option}`);
    for (const code of ['`0`', '`1`', '`2`']) expect(CLI_DOC).toContain(`| ${code} |`);
  });
});
