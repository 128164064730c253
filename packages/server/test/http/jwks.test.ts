/**
 * The JWKS endpoint and key rotation, seen from outside: a "downstream
 * service" that knows nothing of Gatehouse but its JWKS URL verifies access
 * tokens with jose's createRemoteJWKSet + jwtVerify, over real HTTP.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, errors, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CLIIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { decryptPrivateKey } from '../../src/core/key-encryption.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { generatePrivateJWK } from '../../src/core/signing-keys.js';
import { ALICE, APP_ORIGIN, TEST_SECRET, startTestServer, type TestServer } from '../support/test-server.js';

const ACCESS = '__Host-gh_access';
const MIN = 60_000;

/** A downstream service: only jose, only the JWKS URL, the expected issuer and audience. */
function downstream(server: TestServer) {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', server.baseURL));
  return {
    jwks,
    // The test server runs on a manual clock, so the downstream is told the same time.
    verify: (token: string) => jwtVerify(token, jwks, { issuer: APP_ORIGIN, audience: APP_ORIGIN, currentDate: new Date(server.clock.now()) }),
  };
}

async function signIn(server: TestServer): Promise<string> {
  const browser = server.browser();
  expect((await browser.login(ALICE)).status).toBe(200);
  const token = browser.cookie(ACCESS);
  expect(token).toBeDefined();
  return token as string;
}

/** Gatehouse's own verdict on a bearer token, through a guarded route. */
async function guardStatus(server: TestServer, token: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${server.baseURL}/api/private`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

async function fetchJWKS(server: TestServer): Promise<{ keys: JWK[] }> {
  return (await (await fetch(`${server.baseURL}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
}

/** `gatehouse keys …` in-process against the server's database, as an operator would run it. */
async function cli(server: TestServer, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const io: CLIIO = {
    stdout: (text) => void (stdout += text),
    stderr: () => undefined,
    readStdin: async () => '',
    env: { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_SIGNING_ALGORITHM: 'EdDSA', ...env },
    cwd: server.dataDir,
    stopSignal: new Promise<string>(() => undefined),
  };
  const code = await main([...args, '--data-dir', server.dataDir], io);
  return { code, stdout };
}

describe('JWKS with EdDSA', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ signing: { algorithm: 'EdDSA', syncIntervalSeconds: 1 } });
    // The CLI stamps keys with the wall clock; let the server's clock start there too.
    server.clock.set(Date.now());
  });
  afterAll(async () => {
    await server.close();
  });

  it('publishes the public key only, with kid, alg, use and cache headers', async () => {
    const response = await fetch(`${server.baseURL}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const { keys } = (await response.json()) as { keys: JWK[] };
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
  });

  it('answers HEAD like GET without a body, and 405 with Allow to other methods', async () => {
    const head = await fetch(`${server.baseURL}/.well-known/jwks.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${server.baseURL}/.well-known/jwks.json`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a downstream service using only jose verifies a Gatehouse access token', async () => {
    const token = await signIn(server);
    const { payload, protectedHeader } = await downstream(server).verify(token);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: (await fetchJWKS(server)).keys[0]?.kid, typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: APP_ORIGIN, aud: APP_ORIGIN, preferred_username: 'alice', roles: ['user'] });
  });

  it('fails closed, here and downstream, for a tampered token, an HS256 swap keyed with the public key, and an unknown kid', async () => {
    const token = await signIn(server);
    const [header = '', payload = '', signature = ''] = token.split('.');
    const published = (await fetchJWKS(server)).keys[0] as JWK;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

    const tampered = `${header}.${b64({ ...claims, roles: ['admin'] })}.${signature}`;
    // RFC 8725 §2.1: the public key used as an HMAC secret, under our kid.
    const swapHeader = b64({ alg: 'HS256', kid: published.kid, typ: 'at+jwt' });
    const swapped = `${swapHeader}.${payload}.${createHmac('sha256', JSON.stringify(published)).update(`${swapHeader}.${payload}`).digest('base64url')}`;
    const swappedRaw = `${swapHeader}.${payload}.${createHmac('sha256', Buffer.from(published.x ?? '', 'base64url')).update(`${swapHeader}.${payload}`).digest('base64url')}`;
    const unknownKid = `${b64({ alg: 'EdDSA', kid: 'not-a-gatehouse-key', typ: 'at+jwt' })}.${payload}.${signature}`;
    const none = `${b64({ alg: 'none', kid: published.kid, typ: 'at+jwt' })}.${payload}.`;

    const service = downstream(server);
    for (const bad of [tampered, swapped, swappedRaw, unknownKid, none]) {
      expect(await guardStatus(server, bad)).toEqual({ status: 401, code: 'TOKEN_INVALID' });
      await expect(service.verify(bad)).rejects.toBeInstanceOf(errors.JOSEError);
    }
    expect((await guardStatus(server, token)).status).toBe(200);
  });

  it('a rotation by the CLI reaches the running server without a restart: published first, then signing, nobody logged out', async () => {
    const service = downstream(server);
    const before = await signIn(server);
    const oldKid = decodeProtectedHeader(before).kid;
    await service.verify(before);

    const rotated = await cli(server, ['keys', 'rotate', '--json'], { GATEHOUSE_SIGNING_PUBLISH_AHEAD_SECONDS: '60' });
    expect(rotated.code).toBe(0);
    const { kid: newKid, activatesAt } = JSON.parse(rotated.stdout) as { kid: string; activatesAt: string };
    expect(newKid).not.toBe(oldKid);

    // Published within one key-sync interval, while the old key still signs.
    await vi.waitFor(async () => expect((await fetchJWKS(server)).keys.map((k) => k.kid)).toEqual([oldKid, newKid]), { timeout: 5000, interval: 100 });
    expect(decodeProtectedHeader(await signIn(server)).kid).toBe(oldKid);
    // The downstream's cache turns over (max-age) before the new key signs anything.
    await service.jwks.reload();
    expect(service.jwks.jwks()?.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);

    server.clock.set(Date.parse(activatesAt) + 1000);
    const after = await signIn(server);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    for (const token of [before, after]) {
      expect((await guardStatus(server, token)).status).toBe(200);
      await expect(service.verify(token)).resolves.toBeDefined();
    }

    // The old key leaves the JWKS once every token it signed has expired (ttl + tolerance + sync + margin).
    server.clock.set(Date.parse(activatesAt) + (300 + 5 + 1 + 60) * 1000);
    expect((await fetchJWKS(server)).keys.map((k) => k.kid)).toEqual([newKid]);
    expect(await guardStatus(server, after)).toEqual({ status: 401, code: 'TOKEN_EXPIRED' });
    const fresh = await signIn(server);
    expect((await guardStatus(server, fresh)).status).toBe(200);
    await expect(service.verify(fresh)).resolves.toBeDefined();
  });
});

describe('a retired key past its retention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ signing: { algorithm: 'ES256', syncIntervalSeconds: 1 } });
    server.clock.set(Date.now());
  });
  afterAll(async () => {
    await server.close();
  });

  it('signs nothing that verifies any more, even a token with a fresh expiry', async () => {
    const [oldKey] = await server.gatehouse.store.listSigningKeys();
    expect(oldKey).toBeDefined();
    expect((await cli(server, ['keys', 'rotate', '--now'], { GATEHOUSE_SIGNING_ALGORITHM: 'ES256' })).code).toBe(0);
    server.clock.set(Date.now());
    await vi.waitFor(async () => expect((await fetchJWKS(server)).keys).toHaveLength(2), { timeout: 5000, interval: 100 });
    server.clock.advance(10 * MIN);
    // Whoever holds the old private key (here: the test, which knows the secret) mints a fresh-looking token.
    const sealed = decryptPrivateKey(oldKey!.encryptedPrivateKey, deriveKeyRing(TEST_SECRET).signingKeyEncryption, `${oldKey!.kid}|ES256`);
    const privateKey = await importJWK(JSON.parse(sealed ?? '{}') as JWK, 'ES256');
    const now = Math.floor(server.clock.now() / 1000);
    const login = server.browser();
    expect((await login.login(ALICE)).status).toBe(200);
    const genuine = login.cookie(ACCESS) as string;
    const claims = JSON.parse(Buffer.from(genuine.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    const stale = await new SignJWT({ ...claims, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: oldKey!.kid, typ: 'at+jwt' })
      .sign(privateKey);
    expect(await guardStatus(server, stale)).toEqual({ status: 401, code: 'TOKEN_INVALID' });
    await expect(downstream(server).verify(stale)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect((await guardStatus(server, genuine)).status).toBe(200);
  });
});

describe('a key withdrawn by `gatehouse keys delete`', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ signing: { algorithm: 'EdDSA', syncIntervalSeconds: 1 } });
    server.clock.set(Date.now());
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes its tokens with it within one key sync, even ones already verified and cached', async () => {
    const token = await signIn(server);
    const oldKid = decodeProtectedHeader(token).kid as string;
    expect((await guardStatus(server, token)).status).toBe(200); // verified once: now in the cache
    expect((await cli(server, ['keys', 'rotate', '--now'])).code).toBe(0);
    server.clock.set(Date.now());
    await vi.waitFor(async () => expect(decodeProtectedHeader(await signIn(server)).kid).not.toBe(oldKid), { timeout: 5000, interval: 200 });
    expect((await guardStatus(server, token)).status).toBe(200); // rotation alone signs nobody out

    expect((await cli(server, ['keys', 'delete', oldKid])).code).toBe(0);
    await vi.waitFor(async () => expect(await guardStatus(server, token)).toEqual({ status: 401, code: 'TOKEN_INVALID' }), { timeout: 5000, interval: 100 });
    expect((await fetchJWKS(server)).keys.map((k) => k.kid)).not.toContain(oldKid);
  });
});

describe('JWKS with HS256 (the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => undefined);
  afterAll(async () => {
    await server.close();
  });

  it('publishes nothing: 404 NOT_FOUND, never the symmetric key', async () => {
    const response = await fetch(`${server.baseURL}/.well-known/jwks.json`);
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
  });

  it('keeps issuing HS256 tokens with the pinned header and no kid', async () => {
    expect(decodeProtectedHeader(await signIn(server))).toEqual({ alg: 'HS256', typ: 'at+jwt' });
  });
});

describe('keys in a file (signing.keysFile)', () => {
  let server: TestServer;
  let dir: string;
  let first: JWK;
  let second: JWK;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-keysfile-'));
    [first, second] = [await generatePrivateJWK('ES256'), await generatePrivateJWK('ES256')];
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: [first, second] }), { mode: 0o600 });
    server = await startTestServer({ signing: { algorithm: 'ES256', keysFile: join(dir, 'keys.json') } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes both public keys, signs with the first, and a jose-only downstream verifies', async () => {
    expect((await fetchJWKS(server)).keys.map((k) => [k.kid, k.alg, k.d])).toEqual([[first.kid, 'ES256', undefined], [second.kid, 'ES256', undefined]]);
    const token = await signIn(server);
    expect(decodeProtectedHeader(token).kid).toBe(first.kid);
    await expect(downstream(server).verify(token)).resolves.toBeDefined();
    expect(await server.gatehouse.store.listSigningKeys()).toEqual([]); // nothing was written to the store
  });
});
