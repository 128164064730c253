import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCLI } from '../support/instance-process.js';
import { TestBrowser } from '../support/test-browser.js';
import { ALICE, APP_ORIGIN, BOB, freePort, rawExchange, TestUpstream } from './gateway-support.js';

/**
 * Teams that keep nginx: Debian's nginx (a child process with its own prefix,
 * on a free loopback port) in front of a real upstream, asking a real
 * `gatehouse serve` (child process, config file) through `auth_request`, with
 * the location blocks taken from docs/gateway.md.
 */

const NGINX = '/usr/sbin/nginx';
const CLI = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const DOC = await readFile(fileURLToPath(new URL('../../../../docs/gateway.md', import.meta.url)), 'utf8');
const SECRET = 'Xq3vN8rT1wZ5yB7mK2pD9sF4hJ6lC0gA-nginx-test';
/** A client address on loopback that is not a trusted proxy. */
const STRANGER = '127.0.0.2';

/** Resolves once something answers HTTP on `port`; nginx says nothing when it is ready. */
async function untilListening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${log()}`);
    const up = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx did not listen: ${log()}`);
}

let dir: string;
let upstream: TestUpstream;
let gatehouse: ChildProcess;
let gatehouseURL: string;
let nginx: ChildProcess;
let nginxURL: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-nginx-'));
  upstream = await TestUpstream.start();
  const config = {
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    publicOrigin: APP_ORIGIN,
    trustProxy: ['127.0.0.1'],
    signing: { algorithm: 'EdDSA' },
    logLevel: 'info',
    gateway: {
      decisionPath: '/gatehouse/decision',
      routes: [
        { prefix: '/api/orders', audience: 'orders-api' },
        { prefix: '/api/admin', audience: 'admin-api', roles: ['admin'] },
        { prefix: '/api/open', audience: 'open-api', auth: 'optional' },
        { prefix: '/gw', upstream: upstream.url, audience: 'gw-api' },
      ],
    },
  };
  const configFile = join(dir, 'gatehouse.config.json');
  await writeFile(configFile, JSON.stringify(config));
  const env = { GATEHOUSE_SECRET: SECRET };
  await runCLI(['user', 'add', ALICE.username, '--role', 'user', '--password-stdin', '--config', configFile], env, ALICE.password);
  await runCLI(['user', 'add', BOB.username, '--role', 'admin', '--password-stdin', '--config', configFile], env, BOB.password);

  gatehouse = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    gatehouse.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const line = output.split('\n').find((l) => l.includes('"gatehouse listening"'));
      if (line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
    });
    gatehouse.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    gatehouse.once('exit', (code) => reject(new Error(`gatehouse serve exited ${code}: ${output}`)));
  });
  expect(output).toContain('"gateway routes mounted"');
  gatehouseURL = `http://127.0.0.1:${port}`;

  // The docs' locations, pointed at this test's Gatehouse and upstream; /api/admin the same way as /api/orders.
  const docs = /^```nginx\n([\s\S]*?)^```$/m.exec(DOC)?.[1] ?? '';
  expect(docs).toContain('auth_request /gatehouse/decision;');
  const locations = docs.replaceAll('http://127.0.0.1:8080', gatehouseURL).replaceAll('http://orders.internal:8081', upstream.url);
  const orders = /location \/api\/orders \{[\s\S]*?\n\}/.exec(locations)?.[0] ?? '';
  const nginxPort = await freePort();
  const prefix = join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const conf = `
worker_processes 1;
master_process off;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${nginxPort};
${locations}
${orders.replaceAll('/api/orders', '/api/admin')}
    # Gatehouse's own gateway behind nginx, which appends the peer to X-Forwarded-For.
    location /gw/ {
      proxy_pass ${gatehouseURL};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  nginx = spawn(NGINX, ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let nginxOutput = '';
  nginx.stderr?.setEncoding('utf8').on('data', (chunk: string) => (nginxOutput += chunk));
  nginxURL = `http://127.0.0.1:${nginxPort}`;
  await untilListening(nginxPort, nginx, () => nginxOutput);
});

afterAll(async () => {
  nginx?.kill();
  gatehouse?.kill('SIGTERM');
  await Promise.all([nginx, gatehouse].map((child) => (child === undefined || child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

let before: number;
beforeEach(() => {
  before = upstream.received.length;
});
const nothingReachedTheUpstream = () => expect(upstream.received.length).toBe(before);

/**
 * A request as the signed-in page would send it, through nginx. nginx answers
 * a refusal with an HTML page of its own, so the body is JSON only from the upstream.
 */
async function send(
  browser: TestBrowser,
  method: string,
  path: string,
  options: { readonly json?: unknown; readonly xsrf?: boolean; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { origin: APP_ORIGIN, cookie: browser.cookieHeader(path), ...options.headers };
  if (options.xsrf ?? method !== 'GET') headers['x-xsrf-token'] = browser.cookie('XSRF-TOKEN') ?? '';
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(nginxURL + path, { method, headers, body: options.json === undefined ? undefined : JSON.stringify(options.json) });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null };
}

async function signIn(credentials: { username: string; password: string }): Promise<TestBrowser> {
  const browser = new TestBrowser(nginxURL, APP_ORIGIN);
  expect((await browser.login(credentials)).status).toBe(200);
  return browser;
}

describe('nginx auth_request in front of an upstream', () => {
  it('passes a signed-in request with the identity token, which the upstream verifies with jose, and no Gatehouse cookie', async () => {
    const alice = await signIn(ALICE);
    const res = await alice.get('/api/orders/7?x=1');
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('/api/orders/7?x=1');
    expect(res.body.headers.cookie).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${nginxURL}/.well-known/jwks.json`));
    const { payload } = await jwtVerify((res.body.headers.authorization as string).slice(7), jwks, {
      issuer: APP_ORIGIN,
      audience: 'orders-api',
      typ: 'gatehouse-identity+jwt',
    });
    expect(payload).toMatchObject({ preferred_username: 'alice', roles: ['user'] });
  });

  it('the upstream sees the subject Gatehouse vouched for, never one the browser wrote', async () => {
    const alice = await signIn(ALICE);
    const me = await alice.get('/auth/me');
    const res = await alice.get('/api/orders/8', { headers: { 'x-gatehouse-subject': 'someone-else' } });
    expect(res.status).toBe(200);
    expect(res.body.headers['x-gatehouse-subject']).toBe(me.body.user.id);
  });

  it('answers 401 without a session, and nothing reaches the upstream', async () => {
    const res = await fetch(`${nginxURL}/api/orders/7`);
    expect(res.status).toBe(401);
    nothingReachedTheUpstream();
  });

  it('answers 403 for a missing role; the role holder passes', async () => {
    const alice = await signIn(ALICE);
    expect((await send(alice, 'GET', '/api/admin/users')).status).toBe(403);
    nothingReachedTheUpstream();
    const bob = await signIn(BOB);
    expect((await send(bob, 'GET', '/api/admin/users')).status).toBe(200);
  });

  it('judges the real method: a POST without the CSRF token is 403, with it 200 and the body arrives', async () => {
    const alice = await signIn(ALICE);
    expect((await send(alice, 'POST', '/api/orders', { json: { item: 1 }, xsrf: false })).status).toBe(403);
    nothingReachedTheUpstream();
    const res = await send(alice, 'POST', '/api/orders', { json: { item: 2 } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.body)).toEqual({ item: 2 });
  });

  it('a browser’s own X-Forwarded-Uri (the oauth2-proxy bypass) makes the question ambiguous: 403, not an open route', async () => {
    const res = await fetch(`${nginxURL}/api/orders/7`, { headers: { 'x-forwarded-uri': '/api/open/x' } });
    expect(res.status).toBe(403);
    nothingReachedTheUpstream();
  });

  it('a browser’s own X-Forwarded-Method cannot make a POST look like a GET', async () => {
    const alice = await signIn(ALICE);
    const res = await send(alice, 'POST', '/api/orders', { json: { item: 3 }, xsrf: false, headers: { 'x-forwarded-method': 'GET' } });
    expect(res.status).toBe(403);
    nothingReachedTheUpstream();
  });

  it('a path trick that nginx resolves into another location is still refused by Gatehouse', async () => {
    const alice = await signIn(ALICE);
    const answer = await rawExchange(
      Number(new URL(nginxURL).port),
      `GET /api/orders/%2e%2e/admin/users HTTP/1.1\r\nhost: localhost\r\ncookie: ${alice.cookieHeader('/api')}\r\nconnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(403);
    nothingReachedTheUpstream();
  });
});

describe('the decision endpoint asked directly', () => {
  it('refuses a caller that is not in trustProxy: 403 PROXY_UNTRUSTED', async () => {
    const alice = await signIn(ALICE);
    const answer = await rawExchange(
      Number(new URL(gatehouseURL).port),
      `GET /gatehouse/decision HTTP/1.1\r\nhost: x\r\nx-original-uri: /api/orders/1\r\ncookie: ${alice.cookieHeader('/api')}\r\nconnection: close\r\n\r\n`,
      { localAddress: STRANGER },
    );
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error.code).toBe('PROXY_UNTRUSTED');
  });

  it('Envoy style (original path after the decision path): 200 with identity headers', async () => {
    const alice = await signIn(ALICE);
    const res = await fetch(`${gatehouseURL}/gatehouse/decision/api/orders/1`, { headers: { cookie: alice.cookieHeader('/api') } });
    expect(res.status).toBe(200);
    expect(res.headers.get('authorization')).toMatch(/^Bearer /);
    expect(res.headers.get('x-gatehouse-username')).toBe('alice');
    expect(res.headers.get('x-gatehouse-roles')).toBe('user');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('Traefik style (a GET carrying X-Forwarded-Method: POST) runs the CSRF check of a POST', async () => {
    const alice = await signIn(ALICE);
    const ask = (headers: Record<string, string>) =>
      fetch(`${gatehouseURL}/gatehouse/decision`, { headers: { cookie: alice.cookieHeader('/api'), 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/api/orders', origin: APP_ORIGIN, ...headers } });
    const refused = await ask({});
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CSRF_REJECTED');
    expect((await ask({ 'x-xsrf-token': alice.cookie('XSRF-TOKEN') ?? '' })).status).toBe(200);
  });

  it('a question without an original URI, or with two different ones, is 403 MALFORMED_REQUEST', async () => {
    const questions: Record<string, string>[] = [{}, { 'x-original-uri': '/api/orders/1', 'x-forwarded-uri': '/api/open/1' }];
    for (const headers of questions) {
      const res = await fetch(`${gatehouseURL}/gatehouse/decision`, { headers });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_REQUEST');
    }
  });

  it('an anonymous caller on an optional route: 200 without identity headers', async () => {
    const res = await fetch(`${gatehouseURL}/gatehouse/decision/api/open/x`);
    expect(res.status).toBe(200);
    expect(res.headers.get('authorization')).toBeNull();
  });
});

describe('X-Forwarded-For is believed only from trusted proxies', () => {
  it('behind nginx (trusted): the upstream gets the client address nginx saw', async () => {
    const alice = await signIn(ALICE);
    const res = await alice.get('/gw/x', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(200);
    expect(res.body.headers['x-forwarded-for']).toBe('203.0.113.7');
  });

  it('straight from a stranger: the same header is ignored, the socket address is used', async () => {
    const alice = await signIn(ALICE);
    const answer = await rawExchange(
      Number(new URL(gatehouseURL).port),
      `GET /gw/x HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 203.0.113.7\r\ncookie: ${alice.cookieHeader('/gw')}\r\nconnection: close\r\n\r\n`,
      { localAddress: STRANGER },
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).headers['x-forwarded-for']).toBe(STRANGER);
  });
});
