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

/** Which audit events {@link AuditStore.listAudit} returns. */
export interface AuditFilter {
  readonly userId?: string;
  readonly type?: AuditEventType;
  /** At most this many, newest first. Default 100. */
  readonly limit?: number;
}

/** The audit log. */
export interface AuditStore {
  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<StoredAuditEvent[]>;
}
