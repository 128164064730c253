/**
 * The storage contract. It is shaped by what the domain needs (rotate a refresh
 * token, revoke a user's sessions), not by tables, so that each operation that
 * must be atomic is one call and each adapter can make it one transaction.
 *
 * Times are milliseconds since the Unix epoch. Secrets never reach the store:
 * refresh tokens arrive as hashes, passwords as Argon2id hashes.
 */

/** Why a session ended. Recorded with the session and in the audit log. */
export type RevokeReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_disabled'
  | 'admin';

export interface UserRecord {
  readonly id: string;
  /** Normalised (NFKC, lower case); unique. */
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /**
   * Access tokens issued before this instant are stale (soft revocation, for
   * example after a role change): the client must refresh to get a new one.
   */
  readonly tokensValidAfter: number;
}

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
}

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Moves forward on every rotation, never past `absoluteExpiresAt`. */
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly revokedAt: number | null;
  readonly revokeReason: RevokeReason | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export interface RotateRefreshTokenInput {
  /** SHA-256 (base64url) of the refresh token the client presented. */
  readonly presentedHash: string;
  /** Hash of the successor the service derived from the presented token. */
  readonly successorHash: string;
  readonly now: number;
  /** A token rotated at most this long ago is answered, not treated as theft. */
  readonly graceMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * What happened to a presented refresh token. `reused` means the store has
 * already revoked the session, in the same transaction that detected the reuse.
 */
export type RotationOutcome =
  | { readonly status: 'rotated'; readonly session: SessionRecord; readonly user: UserRecord }
  | {
      readonly status: 'grace';
      readonly session: SessionRecord;
      readonly user: UserRecord;
      /** How many rotations the live token is ahead of the presented one (≥ 1). */
      readonly generationsBehind: number;
      /** Hash of the family's live token, so the service can check its derivation. */
      readonly liveHash: string;
    }
  | { readonly status: 'reused'; readonly session: SessionRecord }
  | {
      readonly status: 'invalid';
      readonly reason: 'unknown' | 'revoked' | 'expired' | 'user_disabled';
    };

/** A revocation as the in-memory revocation list learns of it. `seq` grows monotonically. */
export type RevocationEvent =
  | {
      readonly seq: number;
      readonly kind: 'session';
      readonly sessionId: string;
      readonly userId: string;
      readonly at: number;
    }
  | { readonly seq: number; readonly kind: 'user'; readonly userId: string; readonly at: number };

export type AuditEventType =
  | 'user_created'
  | 'login_succeeded'
  | 'login_failed'
  | 'login_throttled'
  | 'logout'
  | 'refresh'
  | 'refresh_token_reused'
  | 'session_revoked'
  | 'sessions_revoked_all'
  | 'password_changed'
  | 'user_disabled'
  | 'user_enabled'
  | 'roles_changed';

export interface AuditEvent {
  readonly at: number;
  readonly type: AuditEventType;
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  /** Small, non-secret facts (a username attempted, a reason). Never tokens or passwords. */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface StoredAuditEvent extends AuditEvent {
  readonly id: number;
}

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

/** A signing key to add; see {@link Store.insertSigningKey}. */
export type NewSigningKey = Omit<SigningKeyRecord, 'retiredAt'>;

/**
 * Everything stateful Gatehouse keeps. Implementations: SQLite (embedded
 * default); PostgreSQL for many instances. One contract test suite runs
 * against each. Methods reject with `GatehouseError('STORE_UNAVAILABLE')`
 * when the backing database cannot be reached.
 */
export interface Store {
  /** Creates or upgrades the schema. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Rejects with `GatehouseError('USERNAME_TAKEN')` when the username exists. */
  createUser(user: NewUser): Promise<UserRecord>;
  findUserById(id: string): Promise<UserRecord | null>;
  findUserByUsername(username: string): Promise<UserRecord | null>;
  /** Replaces the password hash and revokes every session of the user, atomically. Returns the revoked session ids. */
  changePassword(userId: string, passwordHash: string, at: number): Promise<string[]>;
  /** Disables the user and revokes every session, atomically. Returns the revoked session ids. */
  disableUser(userId: string, at: number): Promise<string[]>;
  enableUser(userId: string, at: number): Promise<void>;
  /** Replaces the roles and marks earlier access tokens stale (a `user` revocation event). */
  setRoles(userId: string, roles: readonly string[], at: number): Promise<void>;

  /** Creates a session together with its first refresh token (generation 0). */
  createSession(session: NewSession, refreshTokenHash: string): Promise<SessionRecord>;
  findSession(id: string): Promise<SessionRecord | null>;
  /** Read-only lookup of the session a refresh token belongs to, whatever its state. */
  findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null>;
  /** Sessions that are neither revoked nor expired at `now`, newest first. */
  listActiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Rotates a refresh token atomically; see {@link RotationOutcome}. */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome>;
  /** Revokes one session. Returns it, or null when it does not exist or had already ended. */
  revokeSession(id: string, reason: RevokeReason, at: number): Promise<SessionRecord | null>;
  /** Revokes every live session of a user. Returns the revoked ids. */
  revokeUserSessions(userId: string, reason: RevokeReason, at: number): Promise<string[]>;

  /**
   * Revocations with `seq` greater than `afterSeq` and `at` not before
   * `notBefore`, in `seq` order. Feeds the in-memory revocation list.
   */
  listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]>;

  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(filter?: { readonly userId?: string; readonly type?: AuditEventType; readonly limit?: number }): Promise<StoredAuditEvent[]>;

  /** Deletes sessions and refresh tokens that ended before `before`. Returns how many sessions went. */
  purgeExpired(before: number): Promise<number>;

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
