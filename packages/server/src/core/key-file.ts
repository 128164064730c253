import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { SigningAlgorithm, SigningKeyRecord } from '../store/store.js';
import { GatehouseError } from './errors.js';
import { encryptPrivateKey } from './key-encryption.js';
import { publicJWK, SIGNING_ALGORITHMS, type SigningKeySource } from './signing-keys.js';

/** Far enough in the future that a key never reaches it: published and verifying, never signing. */
const NEVER = Number.MAX_SAFE_INTEGER;

const KID = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * Signing keys kept in a file instead of the store: a JSON Web Key Set of
 * private keys (`{"keys": [...]}`), each with `kid` and `alg`, for
 * deployments that mount keys as secrets. Order is meaning: the **first**
 * key signs; the others are published and verify (a successor being
 * published ahead, or a predecessor whose tokens have not expired yet).
 * Rotation is editing the file (see docs/keys.md); every instance re-reads
 * it on each key sync.
 *
 * The records it returns carry their private keys sealed under
 * `encryptionKey`, like the store's, so that {@link SigningKeySet} handles
 * both sources the same way.
 *
 * @example
 * ```ts
 * const keySet = new SigningKeySet(new SigningKeyFile('/run/secrets/gatehouse-keys.json', key), key, clock, { retainMs });
 * ```
 */
export class SigningKeyFile implements SigningKeySource {
  readonly #path: string;
  readonly #encryptionKey: KeyObject;

  constructor(path: string, encryptionKey: KeyObject) {
    this.#path = path;
    this.#encryptionKey = encryptionKey;
  }

  /**
   * Reads and checks the file. Rejects with `CONFIG_INVALID`, naming the
   * problem but never quoting key material, when it is unreadable or wrong.
   */
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      throw this.#problem(`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#problem('not valid JSON');
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) throw this.#problem('must be a JWK Set with at least one key: {"keys": [...]}');
    const seen = new Set<string>();
    return keys.map((value: unknown, i): SigningKeyRecord => {
      const jwk = value as JWK | null;
      const kid = jwk?.kid;
      const alg = SIGNING_ALGORITHMS.find((a) => a === jwk?.alg);
      if (jwk === null || typeof jwk !== 'object' || typeof kid !== 'string' || !KID.test(kid)) {
        throw this.#problem(`keys.${i}: needs a "kid" of 1-128 letters, digits or . _ ~ -`);
      }
      if (seen.has(kid)) throw this.#problem(`keys.${i}: kid "${kid}" appears twice`);
      seen.add(kid);
      if (alg === undefined) throw this.#problem(`keys.${i}: "alg" must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
      if (typeof jwk.d !== 'string') throw this.#problem(`keys.${i}: not a private key (no "d")`);
      const published = publicJWK(jwk, kid, alg);
      if (published === null || !matchesAlgorithm(published, alg)) throw this.#problem(`keys.${i}: the key type does not fit alg ${alg}`);
      return {
        kid,
        alg,
        publicJwk: JSON.stringify(published),
        encryptedPrivateKey: encryptPrivateKey(JSON.stringify(jwk), this.#encryptionKey, `${kid}|${alg}`),
        createdAt: 0,
        activatesAt: i === 0 ? 0 : NEVER,
        retiredAt: null,
      };
    });
  }

  #problem(message: string): GatehouseError {
    return new GatehouseError('CONFIG_INVALID', { message: `signing.keysFile: ${this.#path}: ${message}` });
  }
}

function matchesAlgorithm(jwk: JWK, alg: SigningAlgorithm): boolean {
  switch (alg) {
    case 'EdDSA':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'RS256':
      return jwk.kty === 'RSA';
  }
}
