/**
 * The partner part of the storage contract: partners who show Gatehouse data
 * on origins they registered, and their keys. A key is stored only as a hash
 * (its id is public); rotating keeps the old key valid until its `expiresAt`,
 * revoking ends it at once. Every change appends to a change log in the
 * transaction that made it, so each instance's in-memory key registry can
 * catch up by reading the log in order (like revocation events).
 */

/** `publishable`: safe in a browser, bound to the partner's origins. `secret`: for the partner's servers only. */
export type PartnerKeyKind = 'publishable' | 'secret';

/** A partner as registered with `gatehouse partner add`. */
export interface NewPartner {
  /** Lower-case slug chosen by the operator (`acme`). */
  readonly id: string;
  readonly name: string;
  /** Exact origins (`https://shop.acme.example`), already normalised. */
  readonly origins: readonly string[];
  /** What the partner may show, e.g. `catalog:read`. */
  readonly scopes: readonly string[];
  readonly createdAt: number;
}

/** A key as the store receives it: never the key itself, only its public id and hash. */
export interface NewPartnerKey {
  readonly id: string;
  readonly kind: PartnerKeyKind;
  /** SHA-256 of the whole key, base64url. */
  readonly hash: string;
  readonly createdAt: number;
}

export interface PartnerKeyRecord extends NewPartnerKey {
  readonly partnerId: string;
  /** Set by rotation: the key stops at this time (the end of the overlap). Null: no end. */
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

export interface PartnerRecord extends NewPartner {
  /** Every key the partner ever had, oldest first (revoked and expired ones included, for listing). */
  readonly keys: readonly PartnerKeyRecord[];
}

/** Partners changed after a point in the change log, and how far the log goes. */
export interface PartnerChanges {
  /** The newest change's sequence number (the caller's cursor when nothing changed). */
  readonly seq: number;
  /** Each changed partner once, as it is now. */
  readonly partners: readonly PartnerRecord[];
}

export interface PartnerStore {
  /**
   * Registers a partner with its first keys in one transaction. Rejects with
   * `PARTNER_ID_TAKEN` when the id exists (creating nothing).
   */
  createPartner(partner: NewPartner, keys: readonly NewPartnerKey[]): Promise<PartnerRecord>;
  /** The partner with its keys, or null. */
  findPartner(id: string): Promise<PartnerRecord | null>;
  /** Every partner, by id. */
  listPartners(): Promise<PartnerRecord[]>;
  /**
   * Adds `key` and makes every live key of the same kind (not revoked, not
   * yet ending) stop at `retireAt` (which may be `at`, for no overlap).
   * Rejects with `PARTNER_NOT_FOUND`.
   */
  rotatePartnerKey(partnerId: string, key: NewPartnerKey, retireAt: number, at: number): Promise<PartnerRecord>;
  /**
   * Revokes one key at `at`. Returns the key as it is now (revoked earlier
   * keeps its first `revokedAt`), or null when no key has that id.
   */
  revokePartnerKey(keyId: string, at: number): Promise<PartnerKeyRecord | null>;
  /** Partners changed after `afterSeq` (0: all of them), read in change-log order. */
  listPartnerChanges(afterSeq: number): Promise<PartnerChanges>;
}
