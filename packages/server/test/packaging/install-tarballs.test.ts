// Both packages as an app gets them: `npm pack` (whose prepack builds), the
// tarballs installed into a fresh project outside this repository, the shipped
// READMEs' examples type-checked with skipLibCheck: false, and the CLI and the
// library example run from that project.
//
// Kept fast and offline-friendly: npm installs with --prefer-offline from the
// cache `npm ci` filled, and --ignore-scripts; better-sqlite3's native addon
// is then copied from this repository's node_modules when the versions match
// (what its install script would have fetched or compiled), and only
// otherwise rebuilt in the project.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TSC = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
const PASSWORD = 'a long passphrase';
/** The default `publicOrigin`: what a browser on the example server would send as `Origin`. */
const DEFAULT_ORIGIN = 'http://localhost:8080';

interface PackedFile {
  readonly path: string;
}
interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

/**
 * The test runner's environment without GATEHOUSE_* settings and without the
 * npm_* variables an outer `npm test` sets (they would point npm at this
 * repository), and with npx forbidden to download anything.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GATEHOUSE_') && !key.toLowerCase().startsWith('npm_') && key !== 'INIT_CWD') env[key] = value;
  }
  return { ...env, npm_config_yes: 'false', npm_config_update_notifier: 'false', ...extra };
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  return (await npmWithWarnings(args, cwd)).stdout;
}

/** Runs npm and answers what it printed on both streams (npm prints its warnings on stderr). */
async function npmWithWarnings(args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('npm', [...args], { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
  return { stdout, stderr };
}

/** The fenced blocks of one language in a Markdown text, in order. */
function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1] ?? '');
}

/** The blocks of one language under the heading `## title`. */
function blocksUnder(markdown: string, title: string, language: string): string[] {
  const start = markdown.indexOf(`\n## ${title}\n`);
  expect(start, `no "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 1);
  return blocks(markdown.slice(start, end === -1 ? undefined : end), language);
}

function version(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let packDir: string;
let appDir: string;
let packed: Packed[];
/** What `npm install` of the tarballs printed, warnings included. */
let installOutput = '';
let serverExample: string | undefined;
let clientExample: string | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  packDir = mkdtempSync(join(tmpdir(), 'gatehouse-pack-'));
  appDir = mkdtempSync(join(tmpdir(), 'gatehouse-app-'));
  packed = JSON.parse(await npm(['pack', '-w', 'packages/server', '-w', 'packages/client', '--pack-destination', packDir, '--json'], REPO_ROOT)) as Packed[];
  expect(packed.map((p) => p.name).sort()).toEqual(['@gatehouse/client', '@gatehouse/server']);

  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));
  const typesNode = version(join(REPO_ROOT, 'node_modules/@types/node'));
  const tarballs = packed.map((p) => join(packDir, p.filename));
  // --loglevel warn: npm's warnings (EBADENGINE among them) are printed whatever the user's npmrc says.
  const installed = await npmWithWarnings(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'warn', ...tarballs, `@types/node@${typesNode}`], appDir);
  installOutput = `${installed.stdout}${installed.stderr}`;

  const ours = join(REPO_ROOT, 'node_modules/better-sqlite3');
  const theirs = join(appDir, 'node_modules/better-sqlite3');
  const addon = 'build/Release/better_sqlite3.node';
  if (version(ours) === version(theirs) && existsSync(join(ours, addon))) {
    mkdirSync(join(theirs, 'build/Release'), { recursive: true });
    copyFileSync(join(ours, addon), join(theirs, addon));
  } else {
    await npm(['rebuild', 'better-sqlite3'], appDir);
  }

  // The examples as an app would hold them, taken from the READMEs inside the installed packages.
  [serverExample] = blocks(readFileSync(join(appDir, 'node_modules/@gatehouse/server/README.md'), 'utf8'), 'ts');
  [clientExample] = blocks(readFileSync(join(appDir, 'node_modules/@gatehouse/client/README.md'), 'utf8'), 'ts');
  expect(serverExample).toContain("from '@gatehouse/server'");
  expect(clientExample).toContain("from '@gatehouse/client'");
  writeFileSync(join(appDir, 'server.ts'), serverExample!);
  writeFileSync(join(appDir, 'browser.ts'), `declare function showLogin(reason: string): void;\n${clientExample!}\nexport { user, notes };\n`);
  const strict = { strict: true, noUncheckedIndexedAccess: true, target: 'ES2022', skipLibCheck: false };
  writeFileSync(
    join(appDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], outDir: 'out' }, files: ['server.ts'] }),
  );
  // A bundled SPA: bundler resolution, DOM types, no Node types.
  writeFileSync(
    join(appDir, 'tsconfig.browser.json'),
    JSON.stringify({ compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] }, files: ['browser.ts'] }),
  );
}, 180_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of [packDir, appDir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('installs without an EBADENGINE warning: every dependency supports the Node versions the packages declare', () => {
    expect(installOutput).not.toMatch(/EBADENGINE/);
  });

  it.each(['@gatehouse/server', '@gatehouse/client'])('%s holds its README, LICENSE and every file its package.json points at', (name) => {
    const pack = packed.find((p) => p.name === name);
    expect(pack).toBeDefined();
    const files = new Set(pack!.files.map((f) => f.path));
    const installed = join(appDir, 'node_modules', name);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
      bin?: Record<string, string>;
    };
    const targets = [...Object.values(manifest.exports).flatMap((e) => [e.types, e.default]), ...Object.values(manifest.bin ?? {})];
    expect(targets.length).toBeGreaterThan(1);
    for (const target of targets) expect(files, `${name} lacks ${target}`).toContain(target.replace(/^\.\//, ''));
    expect(files).toContain('README.md');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'));
    expect([...files].filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo'))).toEqual([]);
  });
});

describe('in a fresh project', () => {
  it('the shipped READMEs’ examples type-check with skipLibCheck: false; the repository README shows the same ones', async () => {
    for (const example of blocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), 'ts')) expect([serverExample, clientExample]).toContain(example);
    for (const project of ['tsconfig.json', 'tsconfig.browser.json']) {
      const result = await run(process.execPath, [TSC, '-p', project, '--noEmit'], { cwd: appDir }).catch((error: { stdout?: string }) => error);
      expect('stdout' in result ? result.stdout : '', project).toBe('');
    }
  }, 90_000);

  it('npx gatehouse runs the installed command (npx may not download anything)', async () => {
    const { stdout } = await run('npx', ['gatehouse', '--help'], { cwd: appDir, env: cleanEnv() });
    expect(stdout).toMatch(/^Usage: gatehouse <command>/);
  });

  it('the README’s commands add a user, and that user signs in to the README’s library example', async () => {
    const readme = readFileSync(join(appDir, 'node_modules/@gatehouse/server/README.md'), 'utf8');
    const [commands] = blocksUnder(readme, 'Run the server', 'sh');
    // The first two lines create the secret and the user; the third would start the bundled server.
    const setup = commands!.split('\n').filter((line) => line.includes('npx gatehouse secret generate') || line.includes('npx gatehouse user add'));
    expect(setup).toHaveLength(2);
    await run('bash', ['-euo', 'pipefail', '-c', setup.join('\n')], { cwd: appDir, env: cleanEnv() });

    // Compiled without its type check (the test above does that), so this test fails only if it does not run.
    await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--noCheck'], { cwd: appDir });
    // The example listens on 8080; the compiled copy listens on a free port instead.
    const port = await freePort();
    const compiled = readFileSync(join(appDir, 'out/server.js'), 'utf8');
    expect(compiled.match(/\.listen\(8080\)/g)).toHaveLength(1);
    writeFileSync(join(appDir, 'out/server.js'), compiled.replace('.listen(8080)', `.listen(${port}, '127.0.0.1')`));
    const child = spawn(process.execPath, ['out/server.js'], { cwd: appDir, env: cleanEnv({ GATEHOUSE_LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

    const base = `http://127.0.0.1:${port}`;
    const login = await retryUntilListening(() =>
      fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: DEFAULT_ORIGIN },
        body: JSON.stringify({ username: 'alice', password: PASSWORD }),
      }),
      () => output,
    );
    expect(login.status, output).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const hello = await fetch(`${base}/anything`, { headers: { cookie } });
    expect(hello.status).toBe(200);
    expect(await hello.json()).toEqual({ hello: 'alice' });
    const refused = await fetch(`${base}/anything`);
    expect(refused.status).toBe(401);
  }, 60_000);
});

/** Calls `request` until the child process accepts connections (it has to open and migrate its store first). */
async function retryUntilListening(request: () => Promise<Response>, output: () => string): Promise<Response> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the example server never listened: ${output()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
