/**
 * The DPoP proof verifier (RFC 9449 §4.3) against proofs made by an
 * independent client (panva's `dpop`) and by hand-built attacks: every
 * refusal has its own code, and every valid proof is accepted exactly once.
 */
import { createSecretKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dpopSchema, resolveDPoP, type DPoPConfig } from '../../src/config/dpop-schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { StoreConsumeOnce } from '../../src/core/consume-once.js';
import { GatehouseError, type ErrorCode } from '../../src/core/errors.js';
import { DPoPNonces } from '../../src/dpop/nonces.js';
import { DPoPProofVerifier, type DPoPExpectations, type DPoPRequest } from '../../src/dpop/proof-verifier.js';
import { openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { ath, exportableKeyPair, generateKeyPair, generateProof, hmacProof, privateJwkOf, proofWith, publicJwkOf, unsignedProof, type KeyPair } from './support.js';

const ORIGIN = 'https://api.example.test';
const URL_ORDERS = `${ORIGIN}/api/orders`;
const TOKEN = 'an.access.token';

let dir: string;
let store: Store;
let clock: ManualClock;
let keys: KeyPair;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-dpop-'));
  store = openSQLiteStore({ path: join(dir, 'db') });
  await store.migrate();
  clock = new ManualClock(Date.now());
  keys = await generateKeyPair('ES256');
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function configOf(input: Record<string, unknown> = {}): DPoPConfig {
  const problems: string[] = [];
  const config = resolveDPoP(dpopSchema.parse({ origins: [ORIGIN], ...input }), 'http://localhost:8080', problems, () => '');
  expect(problems).toEqual([]);
  return config;
}

const NONCE_KEY = createSecretKey(randomBytes(32));

function verifierOf(config: DPoPConfig = configOf()): DPoPProofVerifier {
  return new DPoPProofVerifier({ config, consumeOnce: new StoreConsumeOnce(store, clock), nonces: new DPoPNonces(NONCE_KEY, config.nonceLifetimeSeconds, clock), clock });
}

function get(proof: string | null, target = '/api/orders'): DPoPRequest {
  return { method: 'GET', target, proof };
}

async function refusal(promise: Promise<unknown>): Promise<ErrorCode> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatehouseError);
  return (error as GatehouseError).code;
}

async function codeFor(proof: string | null, expect_: DPoPExpectations = {}, request: Partial<DPoPRequest> = {}, verifier = verifierOf()): Promise<ErrorCode> {
  return refusal(verifier.verify({ ...get(proof), ...request }, expect_));
}

describe('a valid proof', () => {
  it('from the dpop package is accepted, and its key thumbprint returned', async () => {
    const verified = await verifierOf().verify(get(await generateProof(keys, URL_ORDERS, 'GET')));
    const { calculateThumbprint } = await import('dpop');
    expect(verified.jkt).toBe(await calculateThumbprint(keys.publicKey));
  });

  it.each(['ES256', 'Ed25519', 'PS256', 'RS256'] as const)('signed with %s is accepted', async (alg) => {
    const pair = await generateKeyPair(alg);
    await expect(verifierOf().verify(get(await generateProof(pair, URL_ORDERS, 'GET')))).resolves.toMatchObject({ jkt: expect.any(String) });
  });

  it('with EdDSA (the older name of Ed25519) is accepted', async () => {
    const pair = await exportableKeyPair('Ed25519');
    await expect(verifierOf().verify(get(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { alg: 'EdDSA' })))).resolves.toBeDefined();
  });

  it('for a resource request carries ath, the hash of the access token it comes with', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET', undefined, TOKEN);
    await expect(verifierOf().verify(get(proof), { accessToken: TOKEN })).resolves.toBeDefined();
  });

  it('matches htu after normalisation: host case, default port, escape case and escaped unreserved characters; query and fragment ignored', async () => {
    const verifier = verifierOf();
    for (const htu of ['HTTPS://API.Example.TEST/api/orders', 'https://api.example.test:443/api/orders', 'https://api.example.test/api/orders?x=1#y', 'https://api.example.test/api/%6Frders']) {
      await expect(verifier.verify(get(await generateProof(keys, htu, 'GET'))), htu).resolves.toBeDefined();
    }
    await expect(verifier.verify(get(await generateProof(keys, `${ORIGIN}/api/a%2fb`, 'GET'), '/api/a%2Fb'))).resolves.toBeDefined();
  });

  it('is judged against the request path only: the query of the request is not part of htu', async () => {
    await expect(verifierOf().verify(get(await generateProof(keys, URL_ORDERS, 'GET'), '/api/orders?page=2'))).resolves.toBeDefined();
  });
});

describe('refused proofs, one code per cause', () => {
  it('no DPoP header: DPOP_PROOF_MISSING', async () => {
    expect(await codeFor(null)).toBe('DPOP_PROOF_MISSING');
    expect(await codeFor('')).toBe('DPOP_PROOF_MISSING');
  });

  it('two DPoP headers (joined with a comma), garbage or an oversized proof: DPOP_PROOF_MALFORMED', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET');
    expect(await codeFor(`${proof}, ${proof}`)).toBe('DPOP_PROOF_MALFORMED');
    expect(await codeFor('not-a-jwt')).toBe('DPOP_PROOF_MALFORMED');
    expect(await codeFor('a.b.c')).toBe('DPOP_PROOF_MALFORMED');
    expect(await codeFor(`${'a'.repeat(9000)}.b.c`)).toBe('DPOP_PROOF_MALFORMED');
  });

  it('another typ (a plain JWT, an access token): DPOP_PROOF_MALFORMED', async () => {
    const pair = await exportableKeyPair();
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { typ: 'JWT' }))).toBe('DPOP_PROOF_MALFORMED');
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { typ: 'at+jwt' }))).toBe('DPOP_PROOF_MALFORMED');
  });

  it('missing jti, htm, htu or iat: DPOP_PROOF_MALFORMED', async () => {
    const pair = await exportableKeyPair();
    const { SignJWT } = await import('jose');
    const jwk = await publicJwkOf(pair);
    const full = { jti: 'j'.repeat(20), htm: 'GET', htu: URL_ORDERS, iat: Math.floor(clock.now() / 1000) };
    for (const missing of ['jti', 'htm', 'htu', 'iat'] as const) {
      const claims: Record<string, unknown> = { ...full };
      delete claims[missing];
      const proof = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(pair.privateKey);
      expect(await codeFor(proof), missing).toBe('DPOP_PROOF_MALFORMED');
    }
  });

  it('alg none: DPOP_ALGORITHM_REFUSED', async () => {
    expect(await codeFor(unsignedProof(await publicJwkOf(keys), { htm: 'GET', htu: URL_ORDERS }))).toBe('DPOP_ALGORITHM_REFUSED');
  });

  it('HMAC (HS256), with a symmetric key or pretending to be the client\'s public key: DPOP_ALGORITHM_REFUSED', async () => {
    const secret = randomBytes(32);
    const oct = { kty: 'oct', k: secret.toString('base64url') };
    expect(await codeFor(await hmacProof(secret, oct, { htm: 'GET', htu: URL_ORDERS }))).toBe('DPOP_ALGORITHM_REFUSED');
    expect(await codeFor(await hmacProof(secret, await publicJwkOf(keys), { htm: 'GET', htu: URL_ORDERS }))).toBe('DPOP_ALGORITHM_REFUSED');
  });

  it('an algorithm the configuration leaves out: DPOP_ALGORITHM_REFUSED', async () => {
    const verifier = verifierOf(configOf({ algorithms: ['ES256'] }));
    expect(await codeFor(await generateProof(await generateKeyPair('Ed25519'), URL_ORDERS, 'GET'), {}, {}, verifier)).toBe('DPOP_ALGORITHM_REFUSED');
  });

  it('a private key in the jwk header: DPOP_KEY_INVALID, even though the proof is properly signed with it', async () => {
    const pair = await exportableKeyPair();
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { jwk: await privateJwkOf(pair) }))).toBe('DPOP_KEY_INVALID');
    const rsa = await exportableKeyPair('PS256');
    expect(await codeFor(await proofWith(rsa, { htm: 'GET', htu: URL_ORDERS }, { jwk: await privateJwkOf(rsa) }))).toBe('DPOP_KEY_INVALID');
  });

  it('no jwk, a key of another type than the alg, or a jwk whose own alg differs: DPOP_KEY_INVALID', async () => {
    const pair = await exportableKeyPair();
    const { SignJWT } = await import('jose');
    const claims = { jti: randomBytes(16).toString('hex'), htm: 'GET', htu: URL_ORDERS, iat: Math.floor(clock.now() / 1000) };
    expect(await codeFor(await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt' }).sign(pair.privateKey))).toBe('DPOP_KEY_INVALID');
    const ed = await exportableKeyPair('Ed25519');
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { jwk: await publicJwkOf(ed) }))).toBe('DPOP_KEY_INVALID');
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS }, { jwk: { ...(await publicJwkOf(pair)), alg: 'ES384' } }))).toBe('DPOP_KEY_INVALID');
  });

  it('an RSA key under 2048 bits, properly signed with it: DPOP_KEY_INVALID', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const { n, e } = publicKey.export({ format: 'jwk' });
    const body = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${body({ alg: 'RS256', typ: 'dpop+jwt', jwk: { kty: 'RSA', n, e } })}.${body({ jti: randomBytes(16).toString('hex'), htm: 'GET', htu: URL_ORDERS, iat: Math.floor(clock.now() / 1000) })}`;
    // Signed with node:crypto directly: jose refuses to sign with so short a key.
    const proof = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await codeFor(proof)).toBe('DPOP_KEY_INVALID');
  });

  it('signed with another key than its jwk header names: DPOP_SIGNATURE_INVALID', async () => {
    const signer = await exportableKeyPair();
    const victim = await exportableKeyPair();
    expect(await codeFor(await proofWith(signer, { htm: 'GET', htu: URL_ORDERS }, { jwk: await publicJwkOf(victim) }))).toBe('DPOP_SIGNATURE_INVALID');
  });

  it('a remembered header proves nothing by itself: another key signing under a header already accepted is DPOP_SIGNATURE_INVALID', async () => {
    const victim = await exportableKeyPair();
    const thief = await exportableKeyPair();
    const verifier = verifierOf();
    const jwk = await publicJwkOf(victim);
    await expect(verifier.verify(get(await proofWith(victim, { htm: 'GET', htu: URL_ORDERS }, { jwk })))).resolves.toBeDefined();
    // Byte for byte the header just accepted (and remembered), over a payload the thief signed.
    expect(await codeFor(await proofWith(thief, { htm: 'GET', htu: URL_ORDERS }, { jwk, alg: 'ES256' }), {}, {}, verifier)).toBe('DPOP_SIGNATURE_INVALID');
    await expect(verifier.verify(get(await proofWith(victim, { htm: 'GET', htu: URL_ORDERS }, { jwk })))).resolves.toBeDefined();
  });

  it('a tampered payload: DPOP_SIGNATURE_INVALID', async () => {
    const [header, , signature] = (await generateProof(keys, URL_ORDERS, 'GET')).split('.');
    const forged = Buffer.from(JSON.stringify({ jti: 'x'.repeat(20), htm: 'DELETE', htu: URL_ORDERS, iat: Math.floor(clock.now() / 1000) })).toString('base64url');
    expect(await codeFor(`${header}.${forged}.${signature}`, {}, { method: 'DELETE' })).toBe('DPOP_SIGNATURE_INVALID');
  });

  it('for another method: DPOP_METHOD_MISMATCH', async () => {
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET'), {}, { method: 'POST' })).toBe('DPOP_METHOD_MISMATCH');
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'get'))).toBe('DPOP_METHOD_MISMATCH');
  });

  it('for another URL: another path, host, port or scheme, or a host the Host header would claim: DPOP_URL_MISMATCH', async () => {
    for (const htu of [`${ORIGIN}/api/admin`, 'https://evil.example.test/api/orders', 'https://api.example.test:8443/api/orders', 'http://api.example.test/api/orders', `${ORIGIN}/api/orders/`, 'urn:x:y', 'not a url']) {
      expect(await codeFor(await generateProof(keys, htu, 'GET')), htu).toBe('DPOP_URL_MISMATCH');
    }
  });

  it('an iat outside the window, either way: DPOP_PROOF_EXPIRED', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET');
    clock.advance(61_000);
    expect(await codeFor(proof)).toBe('DPOP_PROOF_EXPIRED');
    clock.set(Date.now() - 61_000);
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET'))).toBe('DPOP_PROOF_EXPIRED');
  });

  it('the window is configurable', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET');
    clock.advance(30_000);
    expect(await codeFor(proof, {}, {}, verifierOf(configOf({ proofWindowSeconds: 20 })))).toBe('DPOP_PROOF_EXPIRED');
    await expect(verifierOf(configOf({ proofWindowSeconds: 40 })).verify(get(proof))).resolves.toBeDefined();
  });

  it('a replayed jti: DPOP_PROOF_REPLAYED, even on another verifier sharing the store', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET');
    await verifierOf().verify(get(proof));
    expect(await codeFor(proof)).toBe('DPOP_PROOF_REPLAYED');
    const other = openSQLiteStore({ path: join(dir, 'db') });
    try {
      const second = new DPoPProofVerifier({ config: configOf(), consumeOnce: new StoreConsumeOnce(other, clock), nonces: new DPoPNonces(NONCE_KEY, 300, clock), clock });
      expect(await refusal(second.verify(get(proof)))).toBe('DPOP_PROOF_REPLAYED');
    } finally {
      await other.close();
    }
  });

  it('a refused proof is not recorded: the same proof, once right, is accepted (nothing burns a jti but success)', async () => {
    const proof = await generateProof(keys, URL_ORDERS, 'GET', undefined, TOKEN);
    expect(await codeFor(proof, { accessToken: 'another.token.value' })).toBe('DPOP_ATH_MISMATCH');
    await expect(verifierOf().verify(get(proof), { accessToken: TOKEN })).resolves.toBeDefined();
  });

  it('a missing or wrong ath on a resource request: DPOP_ATH_MISMATCH', async () => {
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET'), { accessToken: TOKEN })).toBe('DPOP_ATH_MISMATCH');
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET', undefined, 'other-token'), { accessToken: TOKEN })).toBe('DPOP_ATH_MISMATCH');
    const pair = await exportableKeyPair();
    expect(await codeFor(await proofWith(pair, { htm: 'GET', htu: URL_ORDERS, ath: ath(TOKEN).toUpperCase() }), { accessToken: TOKEN })).toBe('DPOP_ATH_MISMATCH');
  });

  it('a key other than the token is bound to: DPOP_KEY_MISMATCH', async () => {
    const { calculateThumbprint } = await import('dpop');
    const bound = await calculateThumbprint(keys.publicKey);
    const thief = await generateKeyPair('ES256');
    expect(await codeFor(await generateProof(thief, URL_ORDERS, 'GET', undefined, TOKEN), { accessToken: TOKEN, jkt: bound })).toBe('DPOP_KEY_MISMATCH');
    await expect(verifierOf().verify(get(await generateProof(keys, URL_ORDERS, 'GET', undefined, TOKEN)), { accessToken: TOKEN, jkt: bound })).resolves.toBeDefined();
  });
});

describe('server nonces', () => {
  const nonceConfig = () => configOf({ requireNonce: true, nonceLifetimeSeconds: 60 });

  it('when required, a proof without one gets DPOP_NONCE_REQUIRED and a fresh nonce in DPoP-Nonce; with it, it passes', async () => {
    const verifier = verifierOf(nonceConfig());
    const error = await verifier.verify(get(await generateProof(keys, URL_ORDERS, 'GET'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DPOP_NONCE_REQUIRED' });
    const nonce = (error as GatehouseError).headers['dpop-nonce'];
    expect(nonce).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/); // RFC 9449's NQCHAR
    await expect(verifier.verify(get(await generateProof(keys, URL_ORDERS, 'GET', nonce)))).resolves.toBeDefined();
  });

  it('any instance sharing the secret accepts another\'s nonce (nothing is stored)', async () => {
    const nonce = new DPoPNonces(NONCE_KEY, 60, clock).current();
    await expect(verifierOf(nonceConfig()).verify(get(await generateProof(keys, URL_ORDERS, 'GET', nonce)))).resolves.toBeDefined();
  });

  it('an old, forged or foreign nonce is refused with DPOP_NONCE_REQUIRED', async () => {
    const verifier = verifierOf(nonceConfig());
    const nonces = new DPoPNonces(NONCE_KEY, 60, clock);
    const old = nonces.current();
    const foreign = new DPoPNonces(createSecretKey(randomBytes(32)), 60, clock).current();
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET', foreign), {}, {}, verifier)).toBe('DPOP_NONCE_REQUIRED');
    const [period] = old.split('.');
    expect(await codeFor(await generateProof(keys, URL_ORDERS, 'GET', `${period ?? ''}.${'A'.repeat(43)}`), {}, {}, verifier)).toBe('DPOP_NONCE_REQUIRED');
    // Proofs made at the clock's time, so that only the nonce's age differs.
    const at = async (nonce: string) => proofWith(await exportableKeyPair(), { htm: 'GET', htu: URL_ORDERS, nonce, iat: Math.floor(clock.now() / 1000) });
    clock.advance(60_000); // the next period: still accepted
    await expect(verifier.verify(get(await at(old)))).resolves.toBeDefined();
    clock.advance(60_000); // two periods on: refused
    const late = await at(old);
    expect(await codeFor(late, {}, {}, verifier)).toBe('DPOP_NONCE_REQUIRED');
  });
});
