/**
 * Interoperability with an implementation nobody here wrote: the
 * `http-message-signatures` npm package signs, Gatehouse verifies; Gatehouse
 * signs, the package verifies.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createSigner, createVerifier, httpbis } from 'http-message-signatures';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { ed25519SigningKey, ed25519VerificationKey, hmacSignatureKey } from '../../src/signatures/keys.js';
import { readVerifiedBody } from '../../src/signatures/signed-body.js';
import { signRequest } from '../../src/signatures/signer.js';
import { SignatureVerifier } from '../../src/signatures/verifier.js';
import { API_ORIGIN, chunks, InMemoryConsumeOnce, requestView } from './support.js';

const secretBytes = randomBytes(32);
const ed = generateKeyPairSync('ed25519');
const edPublicPEM = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const edPrivatePEM = ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

const URL_PAYMENTS = `${API_ORIGIN}/v1/payments?dry-run=false`;
const BODY = JSON.stringify({ amount: 1250, currency: 'EUR' });

let clock: ManualClock;
let verifier: SignatureVerifier;

beforeEach(() => {
  // The package reads the wall clock for `created`, so the verifier does too, by way of a clock set to now.
  clock = new ManualClock(Date.now());
  verifier = new SignatureVerifier({
    keys: [hmacSignatureKey('shop-hmac', secretBytes), ed25519VerificationKey('shop-ed', edPublicPEM)],
    origins: [API_ORIGIN],
    consumeOnce: new InMemoryConsumeOnce(clock),
    clock,
  });
});

/** Signs with the package, as a client using it would: fields and parameters named, digest computed by hand. */
async function packageSigned(alg: 'hmac-sha256' | 'ed25519', fields: string[], body: string | null) {
  const headers: Record<string, string> = { host: new URL(URL_PAYMENTS).host };
  if (body !== null) {
    headers['content-type'] = 'application/json';
    headers['content-digest'] = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  }
  const key = alg === 'hmac-sha256' ? createSigner(secretBytes, 'hmac-sha256', 'shop-hmac') : createSigner(createPrivateKey(edPrivatePEM), 'ed25519', 'shop-ed');
  const signed = await httpbis.signMessage(
    { key, fields, params: ['created', 'expires', 'nonce', 'keyid', 'alg'], paramValues: { nonce: randomBytes(16).toString('base64url') } },
    { method: 'POST', url: URL_PAYMENTS, headers },
  );
  return signed.headers as Record<string, string>;
}

async function gatehouseVerifies(headers: Record<string, string>, body: string | null) {
  const pending = await verifier.verify(requestView('POST', URL_PAYMENTS, headers), { bodyExpected: body !== null });
  const bytes = await readVerifiedBody(pending, body === null ? null : chunks(body), 1 << 20);
  return { keyid: pending.signature.keyid, alg: pending.signature.alg, body: bytes.toString() };
}

describe('requests signed by http-message-signatures, verified by Gatehouse', () => {
  it.each(['hmac-sha256', 'ed25519'] as const)('%s over @method, @target-uri, content-digest and content-type, with a body', async (alg) => {
    const headers = await packageSigned(alg, ['@method', '@target-uri', 'content-digest', 'content-type'], BODY);
    expect(new Headers(headers).get('signature-input')).toContain(`alg="${alg}"`);
    expect(await gatehouseVerifies(headers, BODY)).toEqual({ keyid: alg === 'hmac-sha256' ? 'shop-hmac' : 'shop-ed', alg, body: BODY });
  });

  it('ed25519 over @method, @authority, @path and @query, without a body', async () => {
    const headers = await packageSigned('ed25519', ['@method', '@authority', '@path', '@query'], null);
    expect((await gatehouseVerifies(headers, null)).keyid).toBe('shop-ed');
  });

  it('their signature over one body does not pass with another (SIGNATURE_DIGEST_MISMATCH)', async () => {
    const headers = await packageSigned('hmac-sha256', ['@method', '@target-uri', 'content-digest', 'content-type'], BODY);
    const error = await gatehouseVerifies(headers, BODY.replace('1250', '9999')).catch((e: unknown) => e);
    expect(isGatehouseError(error, 'SIGNATURE_DIGEST_MISMATCH')).toBe(true);
  });

  it('their signature without content-digest is refused for a body (SIGNATURE_COMPONENT_MISSING)', async () => {
    const headers = await packageSigned('hmac-sha256', ['@method', '@target-uri'], BODY);
    const error = await gatehouseVerifies(headers, BODY).catch((e: unknown) => e);
    expect(isGatehouseError(error, 'SIGNATURE_COMPONENT_MISSING')).toBe(true);
  });
});

describe('requests signed by Gatehouse, verified by http-message-signatures', () => {
  const keyLookup = async (params: { keyid?: string }) => {
    if (params.keyid === 'shop-hmac') return { id: 'shop-hmac', algs: ['hmac-sha256'], verify: createVerifier(secretBytes, 'hmac-sha256') };
    if (params.keyid === 'shop-ed') return { id: 'shop-ed', algs: ['ed25519'], verify: createVerifier(createPublicKey(edPublicPEM), 'ed25519') };
    return null;
  };

  it.each([
    ['hmac-sha256', () => hmacSignatureKey('shop-hmac', secretBytes)],
    ['ed25519', () => ed25519SigningKey('shop-ed', edPrivatePEM)],
  ] as const)('%s: the package accepts the signature', async (_alg, key) => {
    const base = { 'content-type': 'application/json', host: new URL(URL_PAYMENTS).host };
    const signature = signRequest({ method: 'POST', url: URL_PAYMENTS, headers: base, body: BODY }, { key: key() });
    const headers = { ...base, ...signature };
    const ok = await httpbis.verifyMessage({ keyLookup, requiredFields: ['@method', '@target-uri', 'content-digest'], requiredParams: ['created', 'expires', 'nonce', 'keyid'] }, { method: 'POST', url: URL_PAYMENTS, headers });
    expect(ok).toBe(true);
    // And it is the digest of the body, by an independent hash.
    expect(headers['content-digest']).toBe(`sha-256=:${createHash('sha256').update(BODY).digest('base64')}:`);
    const tampered = await httpbis.verifyMessage({ keyLookup }, { method: 'POST', url: `${API_ORIGIN}/v1/refunds`, headers }).catch(() => false);
    expect(tampered).toBe(false);
  });
});
