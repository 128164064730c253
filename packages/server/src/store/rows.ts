/**
 * Row shapes both SQL stores share (the columns are the same in SQLite and
 * PostgreSQL) and their mapping to the store's records. Users differ (roles
 * and flags are typed differently), so each store maps those itself.
 */
import type {
  AuditEvent,
  AuditEventType,
  AuditNote,
  NewPartner,
  NewPartnerKey,
  OAuthClientRecord,
  RevocationEvent,
  RevokeReason,
  SessionRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  StoredAuditEvent,
} from './store.js';

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface TokenRow {
  hash: string;
  session_id: string;
  generation: number;
  rotated_at: number | null;
  superseded_at: number | null;
  /** 1 when this token replaced an unused successor (selected as a number on both stores). */
  replacement: number;
}

/** The token columns every statement selects, as {@link TokenRow}. */
export const TOKEN_COLUMNS = 'hash, session_id, generation, rotated_at, superseded_at, replacement';

export interface RevocationRow {
  seq: number;
  kind: string;
  session_id: string | null;
  user_id: string;
  at: number;
  /** The user's version after a `user` event; null for session events and for user events written before versions existed. */
  user_version: number | null;
}

export interface AuditRow {
  id: number;
  at: number;
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: string;
  encrypted_private_key: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason as RevokeReason | null,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

export function toRevocation(row: RevocationRow): RevocationEvent {
  if (row.kind === 'session' && row.session_id !== null) {
    return { seq: row.seq, kind: 'session', sessionId: row.session_id, userId: row.user_id, at: row.at };
  }
  // An event from before user versions existed counts as version 0: tokens carrying no version (-1) are stale after it.
  return { seq: row.seq, kind: 'user', userId: row.user_id, version: row.user_version ?? 0, at: row.at };
}

export function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as SigningAlgorithm, // the table's CHECK constraint admits only these
    publicJwk: row.public_jwk,
    encryptedPrivateKey: row.encrypted_private_key,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
  };
}

export function toAudit(row: AuditRow): StoredAuditEvent {
  return {
    id: row.id,
    at: row.at,
    type: row.type as AuditEventType,
    userId: row.user_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as StoredAuditEvent['detail'] }),
  };
}

/** The event an {@link AuditNote} stands for, completed with what the change touched. */
export function auditEventOf(
  note: AuditNote,
  change: { readonly at: number; readonly userId: string; readonly sessionId?: string | null; readonly sessionsRevoked?: number },
): AuditEvent {
  const detail = change.sessionsRevoked === undefined ? note.detail : { ...note.detail, sessionsRevoked: change.sessionsRevoked };
  return {
    at: change.at,
    type: note.type,
    userId: change.userId,
    sessionId: change.sessionId ?? null,
    ip: note.ip,
    userAgent: note.userAgent,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** The audit event of a partner's registration (ids, kinds, times: never a key or its hash), written with it. */
export function partnerAdded(partner: NewPartner, keys: readonly NewPartnerKey[]): AuditEvent {
  return {
    at: partner.createdAt,
    type: 'partner_added',
    detail: { partnerId: partner.id, origins: partner.origins.join(' '), scopes: partner.scopes.join(' '), keyIds: keys.map((k) => `${k.kind}:${k.id}`).join(' ') },
  };
}

/** The audit event of an OAuth client's registration (id and type: never its secret hash or keys), written with it. */
export function clientAdded(client: OAuthClientRecord): AuditEvent {
  return { at: client.createdAt, type: 'oauth_client_added', detail: { client: client.id, type: client.type } };
}

/** The audit event of an OAuth client's removal, with how many of its sessions it ended, written with it. */
export function clientRemoved(clientId: string, sessionsEnded: number, at: number): AuditEvent {
  return { at, type: 'oauth_client_removed', detail: { client: clientId, sessionsEnded } };
}

/** The audit event of a partner key's rotation, written with it. */
export function keyRotated(partnerId: string, key: NewPartnerKey, oldKeysEndAt: number, at: number): AuditEvent {
  return { at, type: 'partner_key_rotated', detail: { partnerId, keyId: key.id, kind: key.kind, oldKeysEndAt } };
}

/** The audit event of a partner key's revocation, written with it. */
export function keyRevoked(partnerId: string, keyId: string, kind: string, at: number): AuditEvent {
  return { at, type: 'partner_key_revoked', detail: { partnerId, keyId, kind } };
}

/** Whether two role lists are the same roles in the same order (what `changeRoles` compares). */
export function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role, i) => role === b[i]);
}

/** The audit note of a role change, with the roles before and after it (space-separated) in its detail. */
export function withRoles(note: AuditNote, from: readonly string[], to: readonly string[]): AuditNote {
  return { ...note, detail: { ...note.detail, from: from.join(' '), to: to.join(' ') } };
}
