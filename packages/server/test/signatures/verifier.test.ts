import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { hmacSignatureKey } from '../../src/signatures/keys.js';
import { readVerifiedBody } from '../../src/signatures/signed-body.js';
import { signRequest } from '../../src/signatures/signer.js';
import { SignatureVerifier, type SignatureVerifierOptions } from '../../src/signatures/verifier.js';
import { API_ORIGIN, chunks, craftSignature, InMemoryConsumeOnce, newEd25519Key, newHMACKey, requestView } from './support.js';

const START = Date.parse('2026-03-01T12:00:00Z');
const URL_ORDERS = `${API_ORIGIN}/orders?currency=EUR`;
const ORIGIN = { scheme: 'https', authority: 'api.example.test' };

let clock: ManualClock;
let nonces: InMemoryConsumeOnce;
const partner = newHMACKey('partner-a');
const robot = newEd25519Key('robot-b');

function newVerifier(options: Partial<SignatureVerifierOptions> = {}): SignatureVerifier {
  return new SignatureVerifier({ keys: [partner.key, robot.verification], origins: [API_ORIGIN], consumeOnce: nonces, clock, ...options });
}

/** Verifies a request the way the guards do: headers first, then the body as it streams in. */
async function verifyRequest(verifier: SignatureVerifier, method: string, url: string, headers: Record<string, string>, body?: string) {
  const request = requestView(method, url, headers);
  const pending = await verifier.verify(request, { bodyExpected: body !== undefined && body.length > 0 });
  const bytes = await readVerifiedBody(pending, body === undefined ? null : chunks(body), 64 * 1024);
  return { ...pending.signature, body: bytes.toString() };
}

/** The error code a verification fails with, or 'verified'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'verified';
  } catch (error) {
    if (isGatehouseError(error)) return error.code;
    throw error;
  }
}

const ORDER = JSON.stringify({ item: 'lamp', quantity: 2 });
const JSON_TYPE = { 'content-type': 'application/json' };

function signedOrder(key = partner.key, body = ORDER) {
  return { ...JSON_TYPE, ...signRequest({ method: 'POST', url: URL_ORDERS, headers: JSON_TYPE, body }, { key, clock }) };
}

beforeEach(() => {
  clock = new ManualClock(START);
  nonces = new InMemoryConsumeOnce(clock);
});

describe('signed requests that verify', () => {
  it('a POST signed with hmac-sha256: the client (keyid), the covered components and the body', async () => {
    const result = await verifyRequest(newVerifier(), 'POST', URL_ORDERS, signedOrder(), ORDER);
    expect(result).toMatchObject({ keyid: 'partner-a', alg: 'hmac-sha256', label: 'sig1', body: ORDER, createdAt: START, expiresAt: START + 60_000 });
    expect(result.covered).toEqual(['@method', '@target-uri', 'content-digest', 'content-type']);
  });

  it('a GET signed with ed25519, no body and so no digest needed', async () => {
    const headers = signRequest({ method: 'GET', url: `${API_ORIGIN}/orders/7` }, { key: robot.signing, clock });
    const result = await verifyRequest(newVerifier(), 'GET', `${API_ORIGIN}/orders/7`, headers);
    expect(result).toMatchObject({ keyid: 'robot-b', alg: 'ed25519', body: '' });
  });

  it('@authority, @path and @query in place of @target-uri', async () => {
    const request = requestView('DELETE', URL_ORDERS, {});
    const headers = craftSignature(request, ORIGIN, partner.key, ['@method', '@authority', '@path', '@query'], { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-authority-path-query', keyid: 'partner-a' });
    expect(await outcome(verifyRequest(newVerifier(), 'DELETE', URL_ORDERS, headers))).toBe('verified');
  });

  it('a created time up to the clock-skew window away, either way', async () => {
    const early = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock: new ManualClock(START - 300_000) });
    const late = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock: new ManualClock(START + 300_000), expiresInSeconds: 1 });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, early))).toBe('verified');
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, late))).toBe('verified');
  });

  it('with one origin, whatever Host a proxy put there: the configured origin is what counts', async () => {
    const headers = { ...signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock }), host: 'backend.internal:8080' };
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('verified');
  });

  it('with several origins, Host picks the one the signature must name; a Host naming none is SIGNATURE_INVALID', async () => {
    const verifier = newVerifier({ origins: [API_ORIGIN, 'https://api.example.org'] });
    const org = signRequest({ method: 'GET', url: 'https://api.example.org/orders' }, { key: partner.key, clock });
    expect(await outcome(verifyRequest(verifier, 'GET', 'https://api.example.org/orders', org))).toBe('verified');
    const test = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock });
    expect(await outcome(verifyRequest(verifier, 'GET', URL_ORDERS, { ...test, host: 'api.example.org' }))).toBe('SIGNATURE_INVALID');
    const other = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock });
    expect(await outcome(verifyRequest(verifier, 'GET', URL_ORDERS, { ...other, host: 'elsewhere.example' }))).toBe('SIGNATURE_INVALID');
  });

  it('with several origins, a Host with another case or the default port names the same origin', async () => {
    const headers = { ...signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock }), host: 'API.example.test:443' };
    expect(await outcome(verifyRequest(newVerifier({ origins: ['https://api.example.org', API_ORIGIN] }), 'GET', URL_ORDERS, headers))).toBe('verified');
  });
});

describe('replay', () => {
  it('the same signed request twice inside the window: the second is SIGNATURE_REPLAYED', async () => {
    const verifier = newVerifier();
    const headers = signedOrder();
    expect(await outcome(verifyRequest(verifier, 'POST', URL_ORDERS, headers, ORDER))).toBe('verified');
    clock.advance(30_000);
    expect(await outcome(verifyRequest(verifier, 'POST', URL_ORDERS, headers, ORDER))).toBe('SIGNATURE_REPLAYED');
  });

  it('on a second verifier instance sharing the nonce store: still SIGNATURE_REPLAYED', async () => {
    const headers = signedOrder();
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER))).toBe('verified');
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER))).toBe('SIGNATURE_REPLAYED');
  });

  it('keeps a nonce no longer than the window, after which the replay is refused as expired', async () => {
    const headers = signedOrder();
    await verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER);
    const [keptUntil] = [...nonces.seen.values()];
    expect(keptUntil).toBe(START + 300_000 + 1000);
    clock.set(keptUntil ?? 0);
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER))).toBe('SIGNATURE_EXPIRED');
  });

  it('a forged signature does not use up the nonce it carries', async () => {
    const genuine = signedOrder();
    const forged = { ...genuine, signature: genuine.signature.replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`) };
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, forged, ORDER))).toBe('SIGNATURE_INVALID');
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, genuine, ORDER))).toBe('verified');
  });

  it('the same nonce under two keys is two nonces', async () => {
    const nonce = 'shared-nonce-0123456789';
    const a = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock, nonce });
    const b = signRequest({ method: 'GET', url: URL_ORDERS }, { key: robot.signing, clock, nonce });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, a))).toBe('verified');
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, b))).toBe('verified');
  });
});

describe('the body', () => {
  it('a signature over a different body: SIGNATURE_DIGEST_MISMATCH', async () => {
    const headers = signedOrder();
    const other = JSON.stringify({ item: 'lamp', quantity: 200 });
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, other))).toBe('SIGNATURE_DIGEST_MISMATCH');
  });

  it('a Content-Digest swapped for the new body\'s: SIGNATURE_INVALID (the header is covered)', async () => {
    const other = JSON.stringify({ item: 'lamp', quantity: 200 });
    const headers = { ...signedOrder(), 'content-digest': signRequest({ method: 'POST', url: URL_ORDERS, body: other }, { key: partner.key, clock })['content-digest'] ?? '' };
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, other))).toBe('SIGNATURE_INVALID');
  });

  it('a body on a request signed without content-digest: SIGNATURE_COMPONENT_MISSING, announced or not', async () => {
    const headers = signRequest({ method: 'POST', url: URL_ORDERS }, { key: partner.key, clock });
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER))).toBe('SIGNATURE_COMPONENT_MISSING');
    // Not announced by the headers (bodyExpected false): caught when the bytes arrive.
    const pending = await newVerifier().verify(requestView('POST', URL_ORDERS, signRequest({ method: 'POST', url: URL_ORDERS }, { key: partner.key, clock })), { bodyExpected: false });
    expect(await outcome(readVerifiedBody(pending, chunks(ORDER), 1024))).toBe('SIGNATURE_COMPONENT_MISSING');
  });

  it('a body over the limit: PAYLOAD_TOO_LARGE', async () => {
    const big = 'x'.repeat(2048);
    const pending = await newVerifier().verify(requestView('POST', URL_ORDERS, signRequest({ method: 'POST', url: URL_ORDERS, body: big }, { key: partner.key, clock })), { bodyExpected: true });
    expect(await outcome(readVerifiedBody(pending, chunks(big, 100), 1024))).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts sha-512, and refuses a digest header with no algorithm it knows', async () => {
    const sha512 = { ...JSON_TYPE, ...signRequest({ method: 'POST', url: URL_ORDERS, headers: JSON_TYPE, body: ORDER }, { key: partner.key, clock, digestAlgorithm: 'sha-512' }) };
    expect(sha512['content-digest']).toMatch(/^sha-512=:/);
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, sha512, ORDER))).toBe('verified');
    const request = requestView('POST', URL_ORDERS, { 'content-digest': 'md5=:AAAAAAAAAAAAAAAAAAAAAA==:' });
    const md5 = craftSignature(request, ORIGIN, partner.key, ['@method', '@target-uri', 'content-digest'], { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-md5-digest-000', keyid: 'partner-a' });
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, { 'content-digest': 'md5=:AAAAAAAAAAAAAAAAAAAAAA==:', ...md5 }, ORDER))).toBe('SIGNATURE_DIGEST_MISMATCH');
  });
});

describe('what a signature must cover and carry', () => {
  const base = { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-coverage-test-01', keyid: 'partner-a' };

  it.each([
    ['@method', ['@target-uri']],
    ['@target-uri (or @authority, @path and @query)', ['@method']],
    ['@query, when @authority and @path stand for the target', ['@method', '@authority', '@path']],
  ])('refuses a signature without %s: SIGNATURE_COMPONENT_MISSING', async (_what, components) => {
    const headers = craftSignature(requestView('GET', URL_ORDERS, {}), ORIGIN, partner.key, components, base);
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_COMPONENT_MISSING');
  });

  it.each(['created', 'expires', 'nonce', 'keyid'])('refuses a signature without %s: SIGNATURE_COMPONENT_MISSING', async (parameter) => {
    const parameters: Record<string, string | number> = { ...base };
    delete parameters[parameter];
    const headers = craftSignature(requestView('GET', URL_ORDERS, {}), ORIGIN, partner.key, ['@method', '@target-uri'], parameters);
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_COMPONENT_MISSING');
  });

  it('refuses a component the application requires when it is not covered', async () => {
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock });
    const verifier = newVerifier({ requiredComponents: ['x-request-id'] });
    expect(await outcome(verifyRequest(verifier, 'GET', URL_ORDERS, { ...headers, 'x-request-id': 'r1' }))).toBe('SIGNATURE_COMPONENT_MISSING');
    const covered = signRequest({ method: 'GET', url: URL_ORDERS, headers: { 'x-request-id': 'r1' } }, { key: partner.key, clock, components: ['x-request-id'] });
    expect(await outcome(verifyRequest(verifier, 'GET', URL_ORDERS, { ...covered, 'x-request-id': 'r1' }))).toBe('verified');
  });

  it('refuses a nonce too short to be random: SIGNATURE_MALFORMED', async () => {
    const headers = craftSignature(requestView('GET', URL_ORDERS, {}), ORIGIN, partner.key, ['@method', '@target-uri'], { ...base, nonce: 'abc' });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_MALFORMED');
  });
});

describe('time', () => {
  it('expired: created longer ago than the window', async () => {
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock, expiresInSeconds: 3600 });
    clock.advance(300_001);
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_EXPIRED');
  });

  it('not yet valid: created further ahead than the window', async () => {
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock: new ManualClock(START + 301_000) });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_EXPIRED');
  });

  it('past its own expires (plus the skew allowance), although created is recent enough', async () => {
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock, expiresInSeconds: 10 });
    clock.advance(11_000);
    expect(await outcome(verifyRequest(newVerifier({ clockSkewSeconds: 1 }), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_EXPIRED');
  });

  it('the window is configurable', async () => {
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock, expiresInSeconds: 3600 });
    clock.advance(61_000);
    expect(await outcome(verifyRequest(newVerifier({ clockSkewSeconds: 60 }), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_EXPIRED');
    expect(await outcome(verifyRequest(newVerifier({ clockSkewSeconds: 120 }), 'GET', URL_ORDERS, headers))).toBe('verified');
  });
});

describe('keys and algorithms', () => {
  it('an unknown keyid: SIGNATURE_KEY_UNKNOWN', async () => {
    const stranger = newHMACKey('partner-z');
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: stranger.key, clock });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_KEY_UNKNOWN');
  });

  it('a known keyid signed with another secret: SIGNATURE_INVALID', async () => {
    const impostor = hmacSignatureKey('partner-a', newHMACKey().secret);
    const headers = signRequest({ method: 'GET', url: URL_ORDERS }, { key: impostor, clock });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_INVALID');
  });

  it('alg naming another algorithm than the key\'s: SIGNATURE_ALGORITHM_MISMATCH', async () => {
    const request = requestView('GET', URL_ORDERS, {});
    const headers = craftSignature(request, ORIGIN, partner.key, ['@method', '@target-uri'], { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-alg-mismatch-01', keyid: 'partner-a', alg: 'ed25519' });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_ALGORITHM_MISMATCH');
  });

  it('an HMAC keyed with an Ed25519 client\'s public key, claiming alg hmac-sha256: refused, never tried as HMAC', async () => {
    // The classic key-confusion attack: the public key is no secret.
    const publicKeyAsSecret = hmacSignatureKey('robot-b', Buffer.from(robot.publicKeyPEM));
    const request = requestView('GET', URL_ORDERS, {});
    const claimed = craftSignature(request, ORIGIN, publicKeyAsSecret, ['@method', '@target-uri'], { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-confusion-0001', keyid: 'robot-b', alg: 'hmac-sha256' });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, claimed))).toBe('SIGNATURE_ALGORITHM_MISMATCH');
    const unclaimed = craftSignature(request, ORIGIN, publicKeyAsSecret, ['@method', '@target-uri'], { created: START / 1000, expires: START / 1000 + 60, nonce: 'n-confusion-0002', keyid: 'robot-b' });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, unclaimed))).toBe('SIGNATURE_INVALID');
  });
});

describe('tampering with what the signature covers', () => {
  const signedGet = () => signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock });

  it.each([
    ['path', `${API_ORIGIN}/refunds?currency=EUR`],
    ['query', `${API_ORIGIN}/orders?currency=USD`],
    ['a query added', `${API_ORIGIN}/orders?currency=EUR&all=1`],
  ])('@target-uri with another %s: SIGNATURE_INVALID', async (_what, url) => {
    expect(await outcome(verifyRequest(newVerifier(), 'GET', url, signedGet()))).toBe('SIGNATURE_INVALID');
  });

  it('another method: SIGNATURE_INVALID', async () => {
    expect(await outcome(verifyRequest(newVerifier(), 'DELETE', URL_ORDERS, signedGet()))).toBe('SIGNATURE_INVALID');
  });

  it('sent to a host this verifier does not serve, even one the signature names: SIGNATURE_INVALID', async () => {
    const elsewhere = signRequest({ method: 'GET', url: 'https://other.example.test/orders?currency=EUR' }, { key: partner.key, clock });
    expect(await outcome(verifyRequest(newVerifier(), 'GET', 'https://other.example.test/orders?currency=EUR', elsewhere))).toBe('SIGNATURE_INVALID');
  });

  it('a covered header removed: SIGNATURE_INVALID', async () => {
    const headers: Record<string, string> = { ...signedOrder() };
    delete headers['content-type'];
    expect(await outcome(verifyRequest(newVerifier(), 'POST', URL_ORDERS, headers, ORDER))).toBe('SIGNATURE_INVALID');
  });
});

describe('the headers themselves', () => {
  it('no signature at all: SIGNATURE_MISSING', async () => {
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, {}))).toBe('SIGNATURE_MISSING');
  });

  it.each([
    ['Signature-Input that is not a dictionary', { 'signature-input': '("@method"', signature: 'sig1=:AAAA:' }],
    ['a signature that is not a byte sequence', { 'signature-input': 'sig1=("@method" "@target-uri");created=1;nonce="0123456789abcdef";keyid="partner-a"', signature: 'sig1="AAAA"' }],
    ['a covered component that is a token', { 'signature-input': 'sig1=(@method);created=1;nonce="0123456789abcdef";keyid="partner-a"', signature: 'sig1=:AAAA:' }],
    ['a component covered twice', { 'signature-input': 'sig1=("@method" "@method" "@target-uri");created=1;nonce="0123456789abcdef";keyid="partner-a"', signature: 'sig1=:AAAA:' }],
  ])('%s: SIGNATURE_MALFORMED', async (_what, headers) => {
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_MALFORMED');
  });

  it('two signatures and no label configured: SIGNATURE_MALFORMED; with the label, the labelled one is verified', async () => {
    const first = signRequest({ method: 'GET', url: URL_ORDERS }, { key: partner.key, clock, label: 'partner' });
    const second = signRequest({ method: 'GET', url: URL_ORDERS }, { key: robot.signing, clock, label: 'proxy' });
    const headers = { 'signature-input': `${first['signature-input']}, ${second['signature-input']}`, signature: `${first.signature}, ${second.signature}` };
    expect(await outcome(verifyRequest(newVerifier(), 'GET', URL_ORDERS, headers))).toBe('SIGNATURE_MALFORMED');
    const result = await verifyRequest(newVerifier({ label: 'proxy' }), 'GET', URL_ORDERS, headers);
    expect(result.keyid).toBe('robot-b');
  });

  it('no failure message ever contains the shared secret or a signature', async () => {
    const genuine = signedOrder();
    const attempts: Promise<unknown>[] = [
      verifyRequest(newVerifier(), 'POST', URL_ORDERS, genuine, 'tampered'),
      verifyRequest(newVerifier(), 'DELETE', URL_ORDERS, signedOrder(), ORDER),
      verifyRequest(newVerifier(), 'POST', URL_ORDERS, { ...signedOrder(), 'signature-input': 'x' }, ORDER),
      verifyRequest(newVerifier({ keys: [] }), 'POST', URL_ORDERS, signedOrder(), ORDER),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(() => null, (e: unknown) => e);
      expect(isGatehouseError(error)).toBe(true);
      const text = `${(error as Error).message} ${JSON.stringify(error)}`;
      expect(text).not.toContain(partner.secret);
      expect(text).not.toContain(genuine.signature.slice(6, 30));
      // Nor the MAC the server computed.
      expect(text).not.toContain(createHmac('sha256', partner.key.key).update('x').digest('base64').slice(0, 12));
    }
  });
});
