import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Encryption at rest for private signing keys kept in the store, with
 * node:crypto's AES-256-GCM (authenticated: a flipped bit fails to decrypt
 * instead of yielding a different key). The key-encryption key comes from
 * the configured secret through HKDF (`KeyRing.signingKeyEncryption`), so a
 * stolen database alone cannot sign tokens.
 *
 * Wire form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url. The `context`
 * (kid and alg) is bound as additional authenticated data, so a ciphertext
 * copied onto another row does not decrypt there.
 */

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
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`gatehouse/v1/signing-key|${context}`, 'utf8'));
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
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  const [, ivText = '', dataText = '', tagText = ''] = parts;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(`gatehouse/v1/signing-key|${context}`, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null; // authentication failed
  }
}
