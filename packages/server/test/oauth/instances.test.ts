/**
 * Two Gatehouse instances on one store (a SQLite file; one PostgreSQL
 * schema), answering through the engine's Web handler: a code redeemed on
 * one and replayed on the other is refused there and ends the session on
 * both; a native session refreshes on either; a client assertion used on
 * one is refused on the other.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { registerClient } from '../../src/oauth/client-registry.js';
import { freshSchema, requirePostgres, type TestSchema } from '../support/postgres.js';
import { ALICE, TEST_SECRET } from '../support/test-server.js';

const ORIGIN = 'https://auth.example';
const REDIRECT = 'http://127.0.0.1/callback';
const CLIENT = { ip: '127.0.0.1', userAgent: 'instances-test' } as const;
const signer = generateKeyPairSync('ed25519');

interface Pair {
  readonly a: Gatehouse;
  readonly b: Gatehouse;
  close(): Promise<void>;
}

async function startPair(config: ConfigInput, cleanup: () => Promise<void>): Promise<Pair> {
  const resolved = resolveConfig({ secret: TEST_SECRET, publicOrigin: ORIGIN, logLevel: 'silent', oauth: { enabled: true }, ...config });
  const open = () => createGatehouse({ config: resolved, logger: createLogger('silent'), revocationSyncIntervalMs: 20 });
  const a = await open();
  const b = await open();
  await a.auth.createUser({ ...ALICE, roles: [] });
  await registerClient(a.store, a.clock, { id: 'app', type: 'native', redirectURIs: [REDIRECT] });
  await registerClient(a.store, a.clock, { id: 'job', type: 'machine', scopes: ['x'], publicKey: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await cleanup();
    },
  };
}

const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

/** Signs in on `g` through the engine and returns a code and its verifier. */
async function code(g: Gatehouse): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/oauth/authorize', ORIGIN);
  const params = { response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const page = await g.handle(new Request(url), CLIENT);
  const sealed = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const answer = await g.handle(form('/oauth/authorize', { request: sealed, ...ALICE }, { cookie, origin: ORIGIN }), CLIENT);
  return { code: new URL(answer.headers.get('location') ?? 'x:').searchParams.get('code') ?? '', verifier };
}

const redeem = (g: Gatehouse, c: { code: string; verifier: string }) =>
  g.handle(form('/oauth/token', { grant_type: 'authorization_code', client_id: 'app', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT }), CLIENT);
const guardOf = async (g: Gatehouse, token: string) => g.guard()(new Request(`${ORIGIN}/api`, { headers: { authorization: `Bearer ${token}` } }), CLIENT);

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met within 2 s');
}

function describeInstances(name: string, start: () => Promise<Pair>): void {
  describe(`two instances on ${name}`, () => {
    let pair: Pair;
    beforeAll(async () => {
      pair = await start();
    });
    afterAll(async () => {
      await pair?.close();
    });

    it('a code redeemed on A and replayed on B is refused there, and the session ends on A too', async () => {
      const c = await code(pair.a);
      const first = await redeem(pair.a, c);
      expect(first.status).toBe(200);
      const { access_token: token } = (await first.json()) as { access_token: string };
      expect((await guardOf(pair.a, token)).ok).toBe(true);
      const replay = await redeem(pair.b, c);
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
      await until(async () => !(await guardOf(pair.a, token)).ok);
    });

    it('a native session opened on A refreshes on B', async () => {
      const tokens = (await (await redeem(pair.a, await code(pair.a))).json()) as { refresh_token: string };
      const refreshed = await pair.b.handle(form('/oauth/token', { grant_type: 'refresh_token', client_id: 'app', refresh_token: tokens.refresh_token }), CLIENT);
      expect(refreshed.status).toBe(200);
    });

    it('a client assertion used on A is refused on B', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuer('job').setSubject('job').setAudience(`${ORIGIN}/oauth/token`).setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).sign(signer.privateKey);
      const fields = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
      expect((await pair.a.handle(form('/oauth/token', fields), CLIENT)).status).toBe(200);
      const replay = await pair.b.handle(form('/oauth/token', fields), CLIENT);
      expect(replay.status).toBe(401);
      expect(await replay.json()).toMatchObject({ error: 'invalid_client' });
    });
  });
}

describeInstances('one SQLite file', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-oauth-instances-'));
  return startPair({ dataDir }, () => rm(dataDir, { recursive: true, force: true }));
});

describe('PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    await requirePostgres();
  });
  describeInstances('one PostgreSQL schema', async () => {
    schema = freshSchema();
    const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-oauth-instances-'));
    return startPair({ dataDir, database: { url: schema.url, schema: schema.schema } }, async () => {
      await schema.drop();
      await rm(dataDir, { recursive: true, force: true });
    });
  });
});
