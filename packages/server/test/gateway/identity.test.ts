import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHTTPServer, type Server as HTTPServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { generateSigningKey } from '../../src/core/signing-keys.js';
import { IdentityTokens } from '../../src/gateway/identity-token.js';
import type { Auth } from '../../src/http/guard.js';
import { TEST_SECRET } from '../support/test-server.js';
import { ALICE, APP_ORIGIN, BOB, startGatewayServer, type GatewayServer } from './gateway-support.js';

const DOC = await readFile(fileURLToPath(new URL('../../../../docs/gateway.md', import.meta.url)), 'utf8');
const PYTHON = '/usr/bin/python3';
const PYTHON_SERVER = fileURLToPath(new URL('./python_upstream.py', import.meta.url));

/** The first ```lang block of docs/gateway.md that contains `marker`. */
function docsBlock(lang: string, marker: string): string {
  const block = [...DOC.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1] ?? '').find((b) => b.includes(marker));
  if (block === undefined) throw new Error(`docs/gateway.md has no ${lang} block with ${marker}`);
  return block;
}

/** The docs snippet with this test's Gatehouse in place of https://app.example.com. */
function withTestURLs(snippet: string, jwksURL: string): string {
  const out = snippet.replace('https://app.example.com/.well-known/jwks.json', jwksURL).replace('https://app.example.com', APP_ORIGIN);
  expect(out).not.toContain('app.example.com');
  return out;
}

/** A loopback port whose connections go wherever `target` says when they arrive: an upstream that starts after Gatehouse. */
async function lateForwarder(): Promise<{ server: Server; port: number; target: { port: number } }> {
  const target = { port: 0 };
  const server = createServer((client) => {
    const upstream = connect(target.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, target };
}

let gw: GatewayServer;
let workDir: string;
let nodeUpstream: HTTPServer;
let nodeURL: string;
let python: ChildProcess;
let pythonPort: number;
let forwarder: Server;
/** The docs' Node snippet, loaded once Gatehouse's JWKS URL is known. */
let identityOf: (authorization: string | undefined) => Promise<{ userId: string; sessionId: string; username: string; roles: string[] }>;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'gatehouse-identity-'));
  nodeUpstream = createHTTPServer((req, res) => {
    identityOf(req.headers.authorization).then(
      (identity) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ identity, authorization: req.headers.authorization })),
      // The token comes back with the refusal too, so tests can see what the billing route forwarded.
      (error: Error) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ refused: error.constructor.name, authorization: req.headers.authorization })),
    );
  });
  await new Promise<void>((resolve) => nodeUpstream.listen(0, '127.0.0.1', resolve));
  nodeURL = `http://127.0.0.1:${(nodeUpstream.address() as AddressInfo).port}`;
  const late = await lateForwarder();
  forwarder = late.server;
  gw = await startGatewayServer({
    gateway: {
      routes: [
        { prefix: '/orders', upstream: nodeURL, audience: 'orders-api' },
        { prefix: '/billing', upstream: nodeURL, audience: 'billing-api' },
        { prefix: '/py', upstream: `http://127.0.0.1:${late.port}`, audience: 'orders-api' },
        { prefix: '/py-billing', upstream: `http://127.0.0.1:${late.port}`, audience: 'billing-api' },
      ],
    },
  });
  const jwksURL = `${gw.baseURL}/.well-known/jwks.json`;
  await writeFile(join(workDir, 'identity.mjs'), withTestURLs(docsBlock('js', 'createRemoteJWKSet'), jwksURL));
  ({ identityOf } = (await import(pathToFileURL(join(workDir, 'identity.mjs')).href)) as { identityOf: typeof identityOf });
  await writeFile(join(workDir, 'identity.py'), withTestURLs(docsBlock('python', 'PyJWKClient'), jwksURL));
  python = spawn(PYTHON, [PYTHON_SERVER], { env: { PATH: '/usr/bin:/bin', PYTHONPATH: workDir, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  python.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  pythonPort = await new Promise<number>((resolve, reject) => {
    python.stdout?.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
    python.once('exit', (code) => reject(new Error(`python upstream exited ${code}: ${stderr}`)));
  });
  late.target.port = pythonPort;
});

afterAll(async () => {
  python?.kill();
  await gw?.close();
  await new Promise<void>((resolve) => nodeUpstream.close(() => resolve()));
  await new Promise<void>((resolve) => forwarder.close(() => resolve()));
  await rm(workDir, { recursive: true, force: true });
});

describe('a Node upstream verifies the forwarded identity with jose alone (the docs snippet)', () => {
  it('and learns who is calling: user, session, username, roles', async () => {
    const alice = await gw.signedIn();
    const me = await alice.get('/auth/me');
    const res = await alice.get('/orders/mine');
    expect(res.status).toBe(200);
    expect(res.body.identity).toEqual({ userId: me.body.user.id, sessionId: me.body.session.id, username: 'alice', roles: ['user'] });
  });

  it('the token: own typ, the route’s audience, Gatehouse’s issuer, a published kid, at most a minute', async () => {
    const alice = await gw.signedIn();
    const { authorization } = (await alice.get('/orders/x')).body;
    const token = (authorization as string).slice(7);
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const jwks = (await (await fetch(`${gw.baseURL}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(header).toEqual({ alg: 'EdDSA', kid: header.kid, typ: 'gatehouse-identity+jwt' });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(claims.iss).toBe(APP_ORIGIN);
    expect(claims.aud).toBe('orders-api');
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(60);
    expect(claims.exp ?? Infinity).toBeLessThanOrEqual(Math.floor(gw.clock.now() / 1000) + 60);
  });

  it('refuses a token addressed to another upstream (aud), e.g. one replayed from billing to orders', async () => {
    const alice = await gw.signedIn();
    const billing = await alice.get('/billing/x');
    expect(billing.status).toBe(401);
    const forBilling = billing.body.authorization as string;
    expect(decodeJwt(forBilling.slice(7)).aud).toBe('billing-api');
    await expect(identityOf(forBilling)).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
  });

  it('refuses a Gatehouse access token, even one whose audience it would accept: typ differs', async () => {
    const alice = await gw.signedIn();
    const accessToken = alice.cookie('__Host-gh_access') ?? '';
    await expect(identityOf(`Bearer ${accessToken}`)).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
    const jwks = createRemoteJWKSet(new URL(`${gw.baseURL}/.well-known/jwks.json`));
    const verify = (typ: string) => jwtVerify(accessToken, jwks, { issuer: APP_ORIGIN, audience: APP_ORIGIN, typ });
    await expect(verify('at+jwt')).resolves.toBeDefined(); // it is a good access token...
    await expect(verify('gatehouse-identity+jwt')).rejects.toThrow(/"typ"/); // ...and no identity
  });

  it('a request with no session reaches no upstream, so an upstream never sees an anonymous identity', async () => {
    const res = await gw.browser().get('/orders/x');
    expect(res.status).toBe(401);
  });
});

describe('Gatehouse never takes an identity token for an access token', () => {
  it('as a Bearer token: 401 TOKEN_INVALID', async () => {
    const alice = await gw.signedIn();
    const identity = (await alice.get('/orders/x')).body.authorization as string;
    const res = await gw.browser().get('/auth/me', { headers: { authorization: identity } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('TOKEN_INVALID');
  });

  it('as the access cookie: 401, and the gateway forwards nothing', async () => {
    const alice = await gw.signedIn();
    const identity = ((await alice.get('/orders/x')).body.authorization as string).slice(7);
    const res = await gw.browser().get('/orders/x', { headers: { cookie: `__Host-gh_access=${identity}` } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('TOKEN_INVALID');
  });
});

describe('minting costs no signature per request', () => {
  it('the same session and audience get the same token, request after request', async () => {
    const alice = await gw.signedIn();
    const tokens = new Set<string>();
    for (let i = 0; i < 5; i++) tokens.add((await alice.get(`/orders/${i}`)).body.authorization);
    expect(tokens.size).toBe(1);
  });

  it('another audience or another session gets a token of its own', async () => {
    const alice = await gw.signedIn();
    const bob = await gw.signedIn(BOB);
    const a = (await alice.get('/orders/x')).body.authorization as string;
    const forBilling = (await alice.get('/billing/x')).body.authorization as string;
    const forBob = (await bob.get('/orders/x')).body.authorization as string;
    expect(decodeJwt(forBilling.slice(7))).toMatchObject({ aud: 'billing-api', sub: decodeJwt(a.slice(7)).sub });
    expect(decodeJwt(forBob.slice(7))).toMatchObject({ aud: 'orders-api', preferred_username: 'bob' });
  });

  it('a token is renewed once three quarters of its life have passed, and the new one verifies', async () => {
    const alice = await gw.signedIn();
    const first = (await alice.get('/orders/x')).body.authorization;
    gw.clock.advance(44_000);
    expect((await alice.get('/orders/x')).body.authorization).toBe(first);
    gw.clock.advance(2_000);
    const renewed = await alice.get('/orders/x');
    expect(renewed.status).toBe(200);
    expect(renewed.body.authorization).not.toBe(first);
    gw.clock.set(Date.now());
  });

  it('the cache is bounded: the oldest entries go first', async () => {
    const clock = new ManualClock(Date.now());
    const keys = gw.gatehouse.signingKeys;
    if (keys === null) throw new Error('EdDSA expected');
    const cache = new IdentityTokens(keys, { issuer: APP_ORIGIN, ttlSeconds: 60, maxEntries: 3 }, clock);
    const auth = (n: number): Auth => ({ user: { id: `u${n}`, username: `u${n}`, roles: [] }, sessionId: `s${n}`, tokenId: `t${n}`, expiresAt: 0, via: 'cookie', client: null, scopes: [], userVersion: 0 });
    const first = await cache.token(auth(1), 'a');
    for (let n = 2; n <= 5; n++) await cache.token(auth(n), 'a');
    expect(cache.size).toBe(3);
    expect(await cache.token(auth(1), 'a')).not.toBe(first);
  });
});

describe('a Python upstream verifies it with the standard library and PyJWT (the docs snippet)', () => {
  async function askPython(authorization: string | undefined): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${pythonPort}/direct`, { headers: authorization === undefined ? {} : { authorization } });
    return { status: res.status, body: await res.json() };
  }

  it('through the gateway: 200 with the verified claims', async () => {
    const alice = await gw.signedIn(ALICE);
    const res = await alice.get('/py/orders?n=1');
    expect(res.status).toBe(200);
    expect(res.body.path).toBe('/py/orders?n=1');
    expect(res.body.verified).toMatchObject({ iss: APP_ORIGIN, aud: 'orders-api', preferred_username: 'alice', roles: ['user'] });
    expect(res.body.verified.sid).toEqual(expect.any(String));
  });

  it('refuses a token for another audience', async () => {
    const alice = await gw.signedIn(ALICE);
    const res = await alice.get('/py-billing/orders');
    expect(res.status).toBe(401);
    expect(res.body.refused).toMatch(/audience/i);
  });

  it('refuses a Gatehouse access token', async () => {
    const alice = await gw.signedIn(ALICE);
    const res = await askPython(`Bearer ${alice.cookie('__Host-gh_access')}`);
    expect(res.status).toBe(401);
  });

  it('refuses an expired identity token, and a tampered one', async () => {
    const keys = gw.gatehouse.signingKeys;
    if (keys === null) throw new Error('EdDSA expected');
    const past = new IdentityTokens(keys, { issuer: APP_ORIGIN, ttlSeconds: 60 }, new ManualClock(Date.now() - 120_000));
    const auth: Auth = { user: { id: 'u1', username: 'alice', roles: ['user'] }, sessionId: 's1', tokenId: 't1', expiresAt: 0, via: 'cookie', client: null, scopes: [], userVersion: 0 };
    const expired = await askPython(`Bearer ${await past.token(auth, 'orders-api')}`);
    expect(expired.status).toBe(401);
    expect(expired.body.refused).toMatch(/expired/i);
    const fresh = new IdentityTokens(keys, { issuer: APP_ORIGIN, ttlSeconds: 60 }, new ManualClock(Date.now()));
    const [h, p, s] = (await fresh.token(auth, 'orders-api')).split('.');
    const admin = Buffer.from(JSON.stringify({ ...decodeJwt(`${h}.${p}.${s}`), roles: ['admin'] })).toString('base64url');
    expect((await askPython(`Bearer ${h}.${admin}.${s}`)).status).toBe(401);
    expect((await askPython(`Bearer ${h}.${p}.${s}`)).status).toBe(200);
  });

  it('refuses a request without a token', async () => {
    expect((await askPython(undefined)).status).toBe(401);
  });

  // Last in the file: it changes the key that signs.
  it('after a key rotation the gateway signs with the new key at once, and the upstream follows the JWKS', async () => {
    const alice = await gw.signedIn(ALICE);
    const before = decodeProtectedHeader((await alice.get('/orders/x')).body.authorization.slice(7)).kid;
    const now = gw.clock.now();
    await gw.gatehouse.store.insertSigningKey(await generateSigningKey('EdDSA', deriveKeyRing(TEST_SECRET).signingKeyEncryption, { now, activatesAt: now }));
    await gw.gatehouse.signingKeys?.sync();
    const res = await alice.get('/py/orders');
    expect(res.status).toBe(200);
    const after = (await alice.get('/orders/x')).body.authorization as string;
    expect(decodeProtectedHeader(after.slice(7)).kid).not.toBe(before);
  });
});
