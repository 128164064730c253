/**
 * Keys for HTTP Message Signatures and the two algorithms Gatehouse speaks
 * (RFC 9421 §3.3.3 `hmac-sha256`, §3.3.6 `ed25519`). The algorithm belongs
 * to the key: a request's `alg` parameter can only agree with it, never
 * choose it.
 */
import { createHmac, createPrivateKey, createPublicKey, createSecretKey, sign, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The HTTP signature algorithms Gatehouse signs and verifies with. */
export type SignatureAlgorithm = 'hmac-sha256' | 'ed25519';

/** The shortest shared secret accepted for `hmac-sha256`: 256 bits, the hash's own size. */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * A key that verifies signatures: for `hmac-sha256` the shared secret, for
 * `ed25519` the client's public key. Secrets live in a `KeyObject`, so a
 * stray `console.log` of a key prints no secret.
 */
export interface SignatureVerificationKey {
  readonly keyid: string;
  readonly alg: SignatureAlgorithm;
  readonly key: KeyObject;
}

/** A key that signs: the shared secret, or an Ed25519 private key. */
export interface SignatureSigningKey {
  readonly keyid: string;
  readonly alg: SignatureAlgorithm;
  readonly key: KeyObject;
}

/** Decodes a base64 or base64url string strictly (no stray characters). */
function decodeBase64(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/**
 * An `hmac-sha256` key from a shared secret: raw bytes, or a base64 /
 * base64url string of at least 32 random bytes (`gatehouse secret generate`
 * prints one). The same key signs and verifies.
 *
 * @throws TypeError when the secret is not base64 or is shorter than 32 bytes.
 * @example
 * ```ts
 * const key = hmacSignatureKey('partner-a', process.env.PARTNER_A_SECRET ?? '');
 * ```
 */
export function hmacSignatureKey(keyid: string, secret: string | Uint8Array): SignatureVerificationKey & SignatureSigningKey {
  const bytes = typeof secret === 'string' ? decodeBase64(secret) : Buffer.from(secret);
  if (bytes === null) throw new TypeError('an hmac-sha256 secret must be base64 or base64url');
  if (bytes.length < MIN_HMAC_SECRET_BYTES) throw new TypeError(`an hmac-sha256 secret must hold at least ${MIN_HMAC_SECRET_BYTES} bytes`);
  return { keyid, alg: 'hmac-sha256', key: createSecretKey(bytes) };
}

/**
 * An `ed25519` verification key from a public key: PEM (SPKI) text or a
 * public JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`). A private key is
 * refused: the server never needs the client's private key.
 *
 * @throws TypeError when the key is not an Ed25519 public key.
 */
export function ed25519VerificationKey(keyid: string, publicKey: string | JsonWebKey): SignatureVerificationKey {
  if (typeof publicKey === 'string' ? publicKey.includes('PRIVATE KEY') : 'd' in publicKey) {
    throw new TypeError('give the Ed25519 public key, not the private key');
  }
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string' ? createPublicKey(publicKey) : createPublicKey({ key: publicKey, format: 'jwk' });
  } catch {
    throw new TypeError('not a PEM or JWK public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return { keyid, alg: 'ed25519', key };
}

/**
 * An `ed25519` signing key from a private key in PEM (PKCS #8) or JWK form.
 *
 * @throws TypeError when the key is not an Ed25519 private key.
 */
export function ed25519SigningKey(keyid: string, privateKey: string | JsonWebKey): SignatureSigningKey {
  let key: KeyObject;
  try {
    key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : createPrivateKey({ key: privateKey, format: 'jwk' });
  } catch {
    throw new TypeError('not a PEM or JWK private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return { keyid, alg: 'ed25519', key };
}

/** `HTTP_SIGN` (RFC 9421 §3.3) of the signature base with `key`. */
export function signBase(key: SignatureSigningKey, base: string): Buffer {
  const data = Buffer.from(base, 'ascii');
  return key.alg === 'hmac-sha256' ? createHmac('sha256', key.key).update(data).digest() : sign(null, data, key.key);
}

/** `HTTP_VERIFY` (RFC 9421 §3.3): true when `signature` is `key`'s signature over the base. */
export function verifyBase(key: SignatureVerificationKey, base: string, signature: Buffer): boolean {
  const data = Buffer.from(base, 'ascii');
  if (key.alg === 'hmac-sha256') {
    const expected = createHmac('sha256', key.key).update(data).digest();
    // The MAC's length is public; equal lengths go through a constant-time comparison.
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, key.key, signature);
  } catch {
    return false;
  }
}
