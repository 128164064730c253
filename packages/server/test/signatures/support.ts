import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { serializeDictionary, type Parameters } from 'structured-headers';
import type { Clock } from '../../src/core/clock.js';
import type { ComponentIdentifier, RequestOrigin, SignatureRequestView } from '../../src/signatures/components.js';
import { ed25519SigningKey, ed25519VerificationKey, hmacSignatureKey, signBase, type SignatureSigningKey } from '../../src/signatures/keys.js';
import { createSignatureBase } from '../../src/signatures/signature-base.js';
import type { ConsumeOnce } from '../../src/signatures/verifier.js';

/** The API origin the tests' verifiers are configured for. */
export const API_ORIGIN = 'https://api.example.test';

/** A shared secret of 32 random bytes, base64url, and its key. */
export function newHMACKey(keyid = 'partner-a') {
  const secret = randomBytes(32).toString('base64url');
  return { secret, key: hmacSignatureKey(keyid, secret) };
}

/** A fresh Ed25519 key pair as signing and verification keys. */
export function newEd25519Key(keyid = 'robot-b') {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signing: ed25519SigningKey(keyid, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    verification: ed25519VerificationKey(keyid, publicKey.export({ format: 'pem', type: 'spki' }).toString()),
    publicKeyPEM: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/**
 * An in-process consume-once for unit tests of the verifier alone: the same
 * contract as the store's (first use true, later uses false until expiry).
 * Tests that need it shared across instances use the real stores.
 */
export class InMemoryConsumeOnce implements ConsumeOnce {
  readonly seen = new Map<string, number>();
  constructor(private readonly clock: Clock) {}

  async consume(kind: string, id: string, expiresAt: number): Promise<boolean> {
    const key = `${kind}\0${id}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > this.clock.now()) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}

/**
 * Signs exactly the given components and parameters, in order, with no
 * profile rules: for attack tests that need signatures Gatehouse's signer
 * would never make.
 */
export function craftSignature(
  request: SignatureRequestView,
  origin: RequestOrigin,
  key: SignatureSigningKey,
  components: readonly string[],
  parameters: Record<string, string | number>,
  label = 'sig1',
): { 'signature-input': string; signature: string } {
  const identifiers: ComponentIdentifier[] = components.map((name) => ({ name, parameters: new Map() }));
  const params: Parameters = new Map(Object.entries(parameters));
  const base = createSignatureBase(request, origin, identifiers, params);
  return {
    'signature-input': serializeDictionary({ [label]: [identifiers.map((c) => [c.name, c.parameters]), params] }),
    signature: serializeDictionary({ [label]: signBase(key, base) }),
  };
}

/** A request view over plain header records, as a Web `Headers` would read them. */
export function requestView(method: string, url: string, headers: Record<string, string>): SignatureRequestView {
  const parsed = new URL(url);
  const h = new Headers(headers);
  if (!h.has('host')) h.set('host', parsed.host);
  return { method, target: `${parsed.pathname}${parsed.search}`, headers: h };
}

/** Yields `body` in chunks of `size` bytes, as a socket would deliver it. */
export async function* chunks(body: string | Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
