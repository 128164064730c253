/**
 * The sessions part of the storage contract: sessions, the refresh-token
 * chain of each, and rotation. Shaped by what the domain needs (rotate a
 * refresh token, revoke a user's sessions), so that each operation that must
 * be atomic is one call and each adapter can make it one transaction.
 */
import type { AuditActor, AuditNote } from './audit-store.js';
import type { UserRecord } from './user-store.js';

/** Why a session ended. Recorded with the session and in the audit log. */
export type RevokeReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_disabled'
  | 'admin'
  /** The OpenID provider's session ended (back-channel logout). */
  | 'provider_logout';

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

/** A sign-in's session, opened by {@link SessionStore.openSession}. */
export interface OpenSessionInput {
  readonly session: NewSession;
  /** Hash of the session's first refresh token (generation 0). */
  readonly refreshTokenHash: string;
  /**
   * The password hash the sign-in verified: the session opens only if the
   * user still has it. Absent for a sign-in without a password (OpenID).
   */
  readonly passwordHash?: string;
  /** The `login_succeeded` record, written with the session (its `at` is `session.createdAt`). */
  readonly audit: AuditNote;
}

/** Why {@link SessionStore.openSession} opened nothing. */
export type OpenSessionRefusal = 'user_not_found' | 'user_disabled' | 'password_changed';

export type OpenSessionOutcome =
  | {
      readonly status: 'opened';
      readonly session: SessionRecord;
      /** The user as the transaction saw it: the roles the first access token carries. */
      readonly user: UserRecord;
    }
  | { readonly status: 'refused'; readonly reason: OpenSessionRefusal };

/**
 * How a token in a chain was made from its predecessor: `derived` by a
 * normal rotation, or as a `replacement` for a successor that was never used
 * (see {@link SessionStore.rotateRefreshToken}).
 */
export type SuccessorKind = 'derived' | 'replacement';

export interface RotateRefreshTokenInput {
  /** SHA-256 (base64url) of the refresh token the client presented. */
  readonly presentedHash: string;
  /** Hash of the successor the service derived from the presented token. */
  readonly successorHash: string;
  /** Hash of the replacement the service derived from the presented token, used instead of `successorHash` when replacing. */
  readonly replacementHash: string;
  readonly now: number;
  /** A token rotated at most this long ago is answered, not treated as theft. */
  readonly graceMs: number;
  readonly idleTimeoutMs: number;
  /**
   * Who presented the token. A rotation writes a `refresh` audit event
   * (`detail.grace: false`, and `detail.replacement: true` when it replaced
   * an unused successor) and a detected reuse a `refresh_token_reused` one,
   * each in the transaction that made the change.
   */
  readonly actor: AuditActor;
}

/**
 * What happened to a presented refresh token. `reused` means the store has
 * already revoked the session, in the same transaction that detected the reuse.
 */
export type RotationOutcome =
  | {
      readonly status: 'rotated';
      readonly session: SessionRecord;
      readonly user: UserRecord;
      /** Which of the two hashes became the live token: `successorHash` (`derived`) or `replacementHash`. */
      readonly successor: SuccessorKind;
    }
  | {
      readonly status: 'grace';
      readonly session: SessionRecord;
      readonly user: UserRecord;
      /**
       * How each token from the presented one's successor to the live token was
       * made, oldest first; its length (≥ 1) is how many generations behind the
       * presented token is. At most 33 steps are listed.
       */
      readonly path: readonly SuccessorKind[];
      /** Hash of the family's live token, so the service can check its derivation. */
      readonly liveHash: string;
    }
  | { readonly status: 'reused'; readonly session: SessionRecord }
  | {
      readonly status: 'invalid';
      readonly reason: 'unknown' | 'revoked' | 'expired' | 'user_disabled';
    };

/**
 * Sessions and their refresh-token chains. A change given an {@link AuditNote}
 * writes it in the change's own transaction, with the user's id and the
 * session's id (`null` for several).
 */
export interface SessionStore {
  /**
   * Opens a sign-in's session in one transaction: reads the user (holding it
   * against concurrent changes until the commit), refuses when the user is
   * gone, disabled or (with `passwordHash`) has another password now, and
   * otherwise creates the session, its first refresh token and the audit
   * record together. A password change or disable that commits before it is
   * seen; one that commits after it ends the new session like any other.
   */
  openSession(input: OpenSessionInput): Promise<OpenSessionOutcome>;
  /**
   * Creates a session together with its first refresh token (generation 0),
   * without checking the user beyond its existence or writing an audit
   * record (administration and tests; sign-ins use {@link openSession}).
   */
  createSession(session: NewSession, refreshTokenHash: string): Promise<SessionRecord>;
  findSession(id: string): Promise<SessionRecord | null>;
  /** Read-only lookup of the session a refresh token belongs to, whatever its state. */
  findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null>;
  /** Sessions that are neither revoked nor expired at `now`, newest first. */
  listActiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * Rotates a refresh token atomically; see {@link RotationOutcome}. With the
   * session live, the user enabled and neither expiry reached, the presented
   * token P is judged in this order:
   *
   * 1. P is live (never presented): it is marked rotated and `successorHash`
   *    becomes the live token (`rotated`, `derived`).
   * 2. P was replaced (it was an unused successor that a retry invalidated):
   *    `reused`.
   * 3. P was rotated at most `graceMs` ago: `grace`, pointing at the live token;
   *    nothing changes.
   * 4. P's successor has never been presented, and is not itself a
   *    replacement: that successor is invalidated, `replacementHash` becomes the
   *    live token, and P counts as rotated now (so parallel retries get the
   *    same replacement within the grace window): `rotated`, `replacement`.
   * 5. Otherwise the chain has moved on by use (P's successor was presented, so
   *    a later generation exists) or P's successor was already replaced once:
   *    `reused`.
   *
   * A successor hash that already exists changes nothing (`invalid`, `unknown`).
   */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome>;
  /**
   * Revokes one session. Returns it, or null when it does not exist or had
   * already ended; `audit` is written only when this call ended it.
   */
  revokeSession(id: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<SessionRecord | null>;
  /** Revokes every live session of a user. Returns the revoked ids; `audit` is written even when there were none. */
  revokeUserSessions(userId: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]>;
}
