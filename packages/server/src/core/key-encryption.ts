import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Encryption at rest for secrets kept in the store (private signing keys,
 * an OpenID provider's tokens), with node:crypto's AES-256-GCM
 * (authenticated: a flipped bit fails to decrypt instead of yielding a
 * different value). The key-encryption keys come from the configured secret
 * through HKDF (`KeyRing`), so a stolen database alone reveals nothing.
 *
 * Wire form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url. The purpose
 * and a `context` (a key's kid and alg, a token's session) are bound as
 * additional authenticated data, so a ciphertext copied onto another row, or
 * into another kind of field, does not decrypt there.
 */

/** What a sealed value is; part of the additional authenticated data. */
export type SealedPurpose = 'signing-key' | 'provider-tokens';

const VERSION = 'v1';
const IV_BYTES = 12; // the GCM standard nonce size; random per encryption
const TAG_BYTES = 16;

/**
 * Encrypts `plaintext` under `key` (a 32-byte secret KeyObject).
 *
 * @example
 * ```ts
 * const sealed = encryptPrivateKey(JSON.stringify(privateJwk), keys.signingKeyEncryption, `${kid}|${alg}`);
 * ```
 */
export function encryptPrivateKey(plaintext: string, key: KeyObject, context: string): string {
  return sealAtRest(plaintext, key, 'signing-key', context);
}

/**
 * Encrypts `plaintext` under `key` for one `purpose` and `context`.
 *
 * @example
 * ```ts
 * const sealed = sealAtRest(JSON.stringify(tokens), keys.providerTokenEncryption, 'provider-tokens', sessionId);
 * ```
 */
export function sealAtRest(plaintext: string, key: KeyObject, purpose: SealedPurpose, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`gatehouse/v1/${purpose}|${context}`, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/**
 * Reverses {@link encryptPrivateKey}. Returns null when `sealed` is malformed,
 * was encrypted under another key (the secret changed) or for another
 * `context`, or was tampered with; never throws for bad input.
 *
 * @example
 * ```ts
 * const json = decryptPrivateKey(record.encryptedPrivateKey, keys.signingKeyEncryption, `${record.kid}|${record.alg}`);
 * if (json === null) throw new Error('cannot decrypt');
 * ```
 */
export function decryptPrivateKey(sealed: string, key: KeyObject, context: string): string | null {
  return openAtRest(sealed, key, 'signing-key', context);
}

/**
 * Reverses {@link sealAtRest}; null for anything malformed, tampered with, or
 * sealed under another key, purpose or context. Never throws for bad input.
 *
 * @example
 * ```ts
 * const json = openAtRest(row.encryptedTokens, keys.providerTokenEncryption, 'provider-tokens', sessionId);
 * ```
 */
export function openAtRest(sealed: string, key: KeyObject, purpose: SealedPurpose, context: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  const [, ivText = '', dataText = '', tagText = ''] = parts;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(`gatehouse/v1/${purpose}|${context}`, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null; // authentication failed
  }
}
