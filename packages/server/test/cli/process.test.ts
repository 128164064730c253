import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { secretProblem } from '../../src/core/keys.js';

/**
 * The CLI as users run it: the built bin in a child process. `npm test` builds
 * first; when running this file alone, run `npx tsc -b packages/server` before.
 */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(REPO_ROOT, 'packages/server/dist/cli/bin.js');
const SECRET = 'process-test-secret-8Hd3Kw9Qz2Lx7Vb5Nm1';

interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const roots: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

let cwd: string;
beforeEach(() => {
  expect(existsSync(BIN), `${BIN} is missing: build first (npx tsc -b packages/server)`).toBe(true);
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-proc-'));
  roots.push(cwd);
});

/** The test runner's environment without any GATEHOUSE_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_')) env[key] = value;
  return { ...env, ...extra };
}

function start(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}) {
  const child = spawn(command, args, { cwd: options.cwd ?? cwd, env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  child.stdin.end(options.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Runs the built bin to completion. */
function gatehouse(args: readonly string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Exited> {
  return start(process.execPath, [BIN, ...args], options).exited;
}

describe('configuration errors stop the process', () => {
  it('a bad environment value: exit 2, stderr names the field and the variable', async () => {
    const result = await gatehouse(['serve', '--data-dir', 'data'], { env: cleanEnv({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_PORT: 'eighty' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain('port: GATEHOUSE_PORT must be a number');
    expect(result.stdout).toBe('');
  });

  it('a bad value in gatehouse.config.json: exit 2, stderr names the field and the file', async () => {
    const file = join(cwd, 'gatehouse.config.json');
    writeFileSync(file, JSON.stringify({ publicOrigin: 'https://app.example.com/login' }));
    const result = await gatehouse(['serve'], { env: cleanEnv({ GATEHOUSE_SECRET: SECRET }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/publicOrigin: an origin is scheme, host and port only/);
    expect(result.stderr).toContain(`(from ${file})`);
  });

  it('a bad flag value: exit 2 naming the field', async () => {
    const result = await gatehouse(['serve', '--port', 'http', '--data-dir', 'data'], { env: cleanEnv({ GATEHOUSE_SECRET: SECRET }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\bport: .*\(from command line\)/);
  });

  it('serve without a secret: exit 2 naming secret, and no database is created', async () => {
    const result = await gatehouse(['serve', '--port', '0', '--data-dir', 'data']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/CONFIG_INVALID: Invalid configuration:\n {2}- secret: The secret is missing/);
    expect(existsSync(join(cwd, 'data', 'gatehouse.db'))).toBe(false);
  });

  it('serve with a weak secret: exit 2 without echoing it', async () => {
    const weak = 'changeme'.repeat(5);
    const result = await gatehouse(['serve', '--port', '0', '--data-dir', 'data'], { env: cleanEnv({ GATEHOUSE_SECRET: weak }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/- secret: The secret is a well-known placeholder/);
    expect(result.stderr).not.toContain(weak);
  });
});

interface LogLine {
  readonly msg: string;
  readonly level: number;
  readonly port?: number;
  readonly host?: string;
  readonly database?: string;
  readonly signal?: string;
}

/** Starts `gatehouse serve` and resolves with its log lines once it logs `gatehouse listening`. */
async function startServe(args: readonly string[]) {
  const server = start(process.execPath, [BIN, 'serve', '--data-dir', join(cwd, 'data'), ...args], { env: cleanEnv({ GATEHOUSE_SECRET: SECRET }) });
  const lines = await new Promise<LogLine[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'gatehouse listening' line; output so far: ${JSON.stringify(server.output())}`)), 10_000);
    server.child.stdout.on('data', () => {
      const complete = server.output().stdout.split('\n').slice(0, -1).map((line) => JSON.parse(line) as LogLine);
      if (complete.some((line) => line.msg === 'gatehouse listening')) {
        clearTimeout(timer);
        resolve(complete);
      }
    });
    server.exited.then((result) => reject(new Error(`exited early: ${JSON.stringify(result)}`)), reject);
  });
  const listening = lines.find((line) => line.msg === 'gatehouse listening')!;
  return { ...server, lines, listening, port: listening.port! };
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('serve', () => {
  it('starts, answers /auth/me with 401 JSON, and exits 0 on SIGTERM', async () => {
    const server = await startServe(['--port', '0']);
    expect(server.port).toBeGreaterThan(0);
    expect(server.listening.host).toBe('localhost');
    expect(server.listening.database).toBe(join(cwd, 'data', 'gatehouse.db'));

    const response = await fetch(`http://localhost:${server.port}/auth/me`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');

    server.child.kill('SIGTERM');
    const result = await server.exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as LogLine);
    expect(lines.at(-1)).toMatchObject({ msg: 'shutting down', signal: 'SIGTERM' });
    expect(result.stderr).toBe('');
    // Nothing secret reaches the log.
    expect(result.stdout).not.toContain(SECRET);
  });

  it('--port without a matching --public-origin warns that browsers will be refused', async () => {
    const server = await startServe(['--port', '0']);
    const warning = server.lines.find((line) => line.level === 40);
    expect(warning?.msg).toContain(`publicOrigin is http://localhost:8080 but the server listens on port ${server.port}`);
    expect(warning?.msg).toContain(`--public-origin http://localhost:${server.port}`);
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('--port with a matching --public-origin, or a public origin behind a proxy, starts without a warning', async () => {
    const port = await freePort();
    for (const origin of [`http://localhost:${port}`, 'https://app.example.com']) {
      const server = await startServe(['--port', String(port), '--host', '127.0.0.1', '--public-origin', origin]);
      expect(server.lines.filter((line) => line.level >= 40), origin).toEqual([]);
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('serve on a port that is taken', () => {
  it('exits 1 saying the port is in use and how to pick another, without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const result = await gatehouse(['serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', 'data'], {
        env: cleanEnv({ GATEHOUSE_SECRET: SECRET }),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `gatehouse: port ${port} on 127.0.0.1 is already in use (another Gatehouse, or another program): ` +
          'pick another with --port N (or GATEHOUSE_PORT), and a --public-origin (GATEHOUSE_PUBLIC_ORIGIN) to match\n',
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('secret generate and the data-dir secret', () => {
  it('a generated secret kept in <data-dir>/secret is used without any variable', async () => {
    const generated = await gatehouse(['secret', 'generate']);
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^[A-Za-z0-9_-]{64,}\n$/);
    expect(secretProblem(generated.stdout.trimEnd())).toBeNull();
    mkdirSync(join(cwd, '.gatehouse'));
    writeFileSync(join(cwd, '.gatehouse', 'secret'), generated.stdout, { mode: 0o600 });

    const migrated = await gatehouse(['migrate']);
    expect(migrated, migrated.stderr).toMatchObject({ code: 0, stdout: 'Schema is up to date.\n' });
    expect(existsSync(join(cwd, '.gatehouse', 'gatehouse.db'))).toBe(true);

    const added = await gatehouse(['user', 'add', 'alice', '--password-stdin'], { stdin: 'correct horse battery staple\n' });
    expect(added.code, added.stderr).toBe(0);
    const listed = await gatehouse(['session', 'list', 'alice', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ sessions: [] });
  });
});

describe('the gatehouse bin from the repository root', () => {
  const LINK = join(REPO_ROOT, 'node_modules/.bin/gatehouse');

  it('is linked into node_modules/.bin and executable', () => {
    // npm links workspace bins at install time only if the target exists then; see docs/cli.md.
    expect(existsSync(LINK), `${LINK} is missing: npm did not link the bin (was dist/ built before npm install?)`).toBe(true);
    expect(() => accessSync(LINK, constants.X_OK), `${LINK} is not executable`).not.toThrow();
  });

  it('node_modules/.bin/gatehouse --help', async () => {
    const result = await start(LINK, ['--help'], { cwd: REPO_ROOT }).exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: gatehouse <command>/);
  });

  it('npx gatehouse --help', async () => {
    // yes=false: never download a package called "gatehouse" from the registry; only the workspace's own bin will do.
    const result = await start('npx', ['gatehouse', '--help'], { cwd: REPO_ROOT, env: cleanEnv({ npm_config_yes: 'false' }) }).exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: gatehouse <command>/);
    expect(result.stdout).toContain('session revoke --user <username>');
  });
});
