/**
 * Row shapes of the PostgreSQL store, their mapping to the store's records,
 * and the mapping of driver errors to Gatehouse errors. Time columns are
 * BIGINT milliseconds, read as numbers (see `types` in postgres-store.ts).
 */
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type {
  AuditEventType,
  RevocationEvent,
  RevokeReason,
  SessionRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  StoredAuditEvent,
  UserRecord,
} from '../store.js';

/** Runs one statement on the connection an operation holds. */
export type Run = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: readonly unknown[]) => Promise<pg.QueryResult<R>>;

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string[];
  disabled: boolean;
  created_at: number;
  updated_at: number;
  tokens_valid_after: number;
}

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
}

export interface RevocationRow {
  seq: number;
  kind: string;
  session_id: string | null;
  user_id: string;
  at: number;
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

/** The session columns in the order every statement selects them (no internal ordering column). */
export const SESSION_COLUMNS =
  'id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason, user_agent, ip';

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: row.roles,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    tokensValidAfter: row.tokens_valid_after,
  };
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
  return { seq: row.seq, kind: 'user', userId: row.user_id, at: row.at };
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

/** The SQLSTATE of an error PostgreSQL itself reported, such as `23505`. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : undefined;
}

/** Serialization failure and deadlock: the transaction did nothing and may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/**
 * SQLSTATEs meaning the database cannot serve us right now, as opposed to a
 * bug in a query: connection exceptions (08), insufficient resources (53),
 * operator intervention such as a statement timeout or shutdown (57), system
 * errors (58), authentication and unknown database (28, 3D000), lock and
 * idle-in-transaction timeouts, and retries that ran out.
 */
function isUnavailableState(state: string): boolean {
  return (
    /^(08|53|57|58|28)/.test(state) ||
    state === '3D000' ||
    state === '55P03' ||
    state === '25P03' ||
    state === '40001' ||
    state === '40P01'
  );
}

/**
 * Maps an error from the driver to `STORE_UNAVAILABLE` when it means the
 * database is unreachable, overloaded or too slow; returns anything else
 * unchanged (a query bug stays a 500). Driver messages are kept as the cause
 * only: they can quote SQL and values.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof GatehouseError) return error;
  const state = sqlState(error);
  if (state !== undefined && isUnavailableState(state)) return new GatehouseError('STORE_UNAVAILABLE', { cause: error });
  return error;
}
