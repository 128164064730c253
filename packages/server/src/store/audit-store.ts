/** The audit log part of the storage contract: security events, append-only. */

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
  | 'roles_changed'
  | 'identity_linked'
  | 'provider_logout'
  | 'partner_added'
  | 'partner_key_rotated'
  | 'partner_key_revoked'
  /** `gatehouse client add` / `client remove`: an OAuth client registered or removed (detail: client, type). */
  | 'oauth_client_added'
  | 'oauth_client_removed'
  /** A machine client got a token at /oauth/token (detail: client, scope, jti; never the token). */
  | 'client_token_issued';

/** Small, non-secret facts (a username attempted, a reason). Never tokens or passwords. */
export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

export interface AuditEvent {
  readonly at: number;
  readonly type: AuditEventType;
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly detail?: AuditDetail;
}

export interface StoredAuditEvent extends AuditEvent {
  readonly id: number;
}

/** Who made a change: recorded with the audit event the store writes for it. */
export interface AuditActor {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/**
 * The audit event that records a change, handed to the operation making the
 * change: the store writes it in that operation's transaction, so the change
 * and its record commit together or not at all (a crash in between can lose
 * neither alone). The store adds `at` (the change's time), the user and the
 * session the change touched and, where sessions ended, `detail.sessionsRevoked`.
 */
export interface AuditNote extends AuditActor {
  readonly type: AuditEventType;
  readonly detail?: AuditDetail;
}

/** Which audit events {@link AuditStore.listAudit} returns. */
export interface AuditFilter {
  readonly userId?: string;
  readonly type?: AuditEventType;
  /** At most this many, newest first. Default 100. */
  readonly limit?: number;
}

/** The audit log. */
export interface AuditStore {
  /** Appends an event that records no change of the store's (a failed or throttled login, a grace refresh). */
  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<StoredAuditEvent[]>;
}
