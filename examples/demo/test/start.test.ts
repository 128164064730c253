import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** What `npm start` runs after building. */
const ENTRY = fileURLToPath(new URL('../dist/server.js', import.meta.url));

const roots: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Starts the demo on 127.0.0.1 with a fresh data directory; `banner` resolves once the start-up banner is out. */
function startDemo(env: Record<string, string>, dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-start-'))) {
  roots.push(dataDir);
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GATEHOUSE_')) base[key] = value;
  const child = spawn(process.execPath, [ENTRY], { env: { ...base, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null }>((resolve) => child.once('close', (code) => resolve({ code })));
  const banner = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (stdout.includes('Data:')) resolve(stdout);
    });
    void exited.then(() => reject(new Error(`exited: ${stdout}${stderr}`)));
  });
  banner.catch(() => undefined); // awaited only by the tests that expect a start
  return { child, exited, banner, output: () => ({ stdout, stderr }) };
}

describe('npm start (the demo entry)', () => {
  it('on a port that is taken: exits 1 saying the port is in use and how to pick another, without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const demo = startDemo({ GATEHOUSE_PORT: String(port) });
      expect(await demo.exited).toEqual({ code: 1 });
      const { stdout, stderr } = demo.output();
      expect(stdout).not.toContain('Sign in as');
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('GATEHOUSE_PORT=');
      expect(stderr).not.toMatch(/\bat .*:\d+:\d+/);
      expect(stderr).not.toContain('EADDRINUSE');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('prints the port actually used, and warns when publicOrigin names another', async () => {
    const demo = startDemo({ GATEHOUSE_PORT: '0' });
    const banner = await demo.banner;
    const port = Number(/Listening on +127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/auth/me`)).status).toBe(401);
    expect(demo.output().stderr).toContain(`Sign-in from http://localhost:${port} will be refused`);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toEqual({ code: 0 });
  });

  it('on a fresh data directory: EdDSA keys published, the Demo IdP and the upstream route up, their account printed and kept across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-start-'));
    const first = startDemo({ GATEHOUSE_PORT: '0' }, dataDir);
    const banner = await first.banner;
    const port = Number(/Listening on +127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    const idp = /or with Demo IdP +(\S+) \/ (\S+) .*(http:\/\/127\.0\.0\.1:\d+)\)/.exec(banner);
    expect(idp).not.toBeNull();
    const [, username, password, issuer] = idp ?? [];
    expect(banner).toMatch(/Upstream API +http:\/\/localhost:8080\/api\/upstream\/ -> http:\/\/127\.0\.0\.1:\d+/);

    // Identity forwarding needs published keys: the demo signs with EdDSA without being told to.
    const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as { keys: { kty: string; alg: string }[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', alg: 'EdDSA' });
    expect(await (await fetch(`http://127.0.0.1:${port}/auth/oidc/providers`)).json()).toMatchObject({ providers: [{ id: 'demo-idp', displayName: 'Demo IdP' }] });
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).toBe(issuer);
    // The route exists and is guarded: signed out, the gateway answers 401 itself.
    expect((await fetch(`http://127.0.0.1:${port}/api/upstream/whoami`)).status).toBe(401);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0 });
    // The banner is not buried under the provider library's development notices.
    expect(`${first.output().stdout}${first.output().stderr}`).not.toContain('oidc-provider');

    // A restart keeps the Demo IdP's account (and so the account Gatehouse linked to it).
    const second = startDemo({ GATEHOUSE_PORT: '0' }, dataDir);
    expect(await second.banner).toContain(`or with Demo IdP  ${username} / ${password}`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0 });
  });
});
