/** The signing-key part of the storage contract: asymmetric access-token keys and their succession. */

/** An asymmetric JWS algorithm access tokens can be signed with; each key has exactly one. */
export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

/**
 * One asymmetric access-token signing key. The store keeps it as given: the
 * private key arrives already encrypted (see `core/key-encryption.ts`), so a
 * copy of the database alone cannot sign tokens.
 */
export interface SigningKeyRecord {
  /** The JWS `kid`; unique. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The public key as JWK JSON text (no private members); what the JWKS publishes. */
  readonly publicJwk: string;
  /** The private key, encrypted by Gatehouse; opaque to the store. */
  readonly encryptedPrivateKey: string;
  readonly createdAt: number;
  /** From this instant the key signs. Before it the key is already published, so downstream caches learn it first. */
  readonly activatesAt: number;
  /** When its successor took over (the successor's `activatesAt`); null while no successor exists. */
  readonly retiredAt: number | null;
}

/** A signing key to add; see {@link SigningKeyStore.insertSigningKey}. */
export type NewSigningKey = Omit<SigningKeyRecord, 'retiredAt'>;

/** Signing keys, shared by every instance. */
export interface SigningKeyStore {
  /**
   * Adds a signing key and, in the same transaction, sets `retiredAt` to
   * `key.activatesAt` on every key that has no `retiredAt` yet: the new key
   * is their successor. Rejects with `GatehouseError('KEY_ID_TAKEN')`, changing
   * nothing, when the kid exists.
   */
  insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord>;
  /** Every signing key, oldest `activatesAt` first (ties by `createdAt`, then kid). */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Removes a key for good (it no longer verifies anything). Returns whether it existed. */
  deleteSigningKey(kid: string): Promise<boolean>;
}
