/**
 * The docs' commands, as a developer runs them from a fresh checkout: the
 * built `gatehouse` bin registers clients and serves with `oauth.enabled`
 * from a configuration file; a machine client gets a token with its secret,
 * a native app signs in and calls `/auth/me` with its token.
 * (Run `npx tsc -b packages/server` first when running this file alone.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, formPost, signIn } from './oauth-server.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const SECRET = 'serve-process-secret-7Hq2Lw9Zx3Kd8Vb1Nm5';
const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-serve-'));
let child: ChildProcess | undefined;
let origin: string;

function env(): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_')) clean[key] = value;
  return { ...clean, GATEHOUSE_SECRET: SECRET };
}

/** Runs `gatehouse <args> --config gatehouse.config.json` to completion. */
function gatehouse(args: readonly string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [BIN, ...args, '--config', 'gatehouse.config.json'], { cwd, env: env() });
    let stdout = '';
    let stderr = '';
    run.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    run.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    run.stdin.end(stdin);
    run.once('error', reject);
    run.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  origin = `http://127.0.0.1:${port}`;
  writeFileSync(join(cwd, 'gatehouse.config.json'), JSON.stringify({ publicOrigin: origin, host: '127.0.0.1', port, dataDir: 'data', oauth: { enabled: true } }));
  expect((await gatehouse(['user', 'add', ALICE.username, '--password-stdin'], `${ALICE.password}\n`)).code).toBe(0);
  child = spawn(process.execPath, [BIN, 'serve', '--config', 'gatehouse.config.json'], { cwd, env: env() });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no 'gatehouse listening' line: ${out}`)), 10_000);
    child?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('gatehouse listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child?.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}, 30_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(cwd, { recursive: true, force: true });
});

describe('gatehouse serve with oauth.enabled, clients added with the CLI', () => {
  it('a machine client registered with `client add` gets a token with its secret', async () => {
    const added = await gatehouse(['client', 'add', 'reports-job', '--type', 'machine', '--scope', 'reports:read', '--json']);
    expect(added.code).toBe(0);
    const { secret } = JSON.parse(added.stdout) as { secret: string };
    const response = await formPost(`${origin}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`reports-job:${secret}`).toString('base64')}` });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('reports:read');
    expect(decodeProtectedHeader(body.access_token).typ).toBe('gatehouse-client+jwt');
  });

  it('a native app registered with `client add` signs alice in and calls /auth/me with its token', async () => {
    expect((await gatehouse(['client', 'add', 'mobile-app', '--type', 'native', '--redirect-uri', 'http://127.0.0.1/callback'])).code).toBe(0);
    const metadata = (await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()) as { authorization_endpoint: string; token_endpoint: string };
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(metadata.authorization_endpoint);
    const params = { response_type: 'code', client_id: 'mobile-app', redirect_uri: 'http://127.0.0.1:53177/callback', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: 's' };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const { location } = await signIn({ origin }, url.href);
    const code = new URL(location ?? 'x:').searchParams.get('code') ?? '';
    const tokens = await formPost(metadata.token_endpoint, { grant_type: 'authorization_code', client_id: 'mobile-app', code, redirect_uri: params.redirect_uri, code_verifier: verifier });
    const { access_token: token } = (await tokens.json()) as { access_token: string };
    const me = await fetch(`${origin}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { username: ALICE.username } });
  });
});
