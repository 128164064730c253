/**
 * The SQLite store's statements, the row shapes they return and the mapping
 * to the store's records, kept apart so the store reads as a list of operations.
 */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import type { UserRecord } from '../store.js';
import type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow } from '../rows.js';

export type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow };
export { toAudit, toRevocation, toSession, toSigningKey } from '../rows.js';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string;
  disabled: number;
  created_at: number;
  updated_at: number;
  tokens_valid_after: number;
}

/**
 * Every statement the store runs, prepared once per connection: preparing
 * per call costs more than most of these queries.
 */
/** The part of a better-sqlite3 statement the store uses; declared here so declaration output can name it. */
export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export function prepareStatements(db: Database.Database) {
  const p = <P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R> => db.prepare<P, R>(sql);
  return {
    insertUser: p<[string, string, string, string, number, number]>(
      `INSERT INTO users (id, username, password_hash, roles, disabled, created_at, updated_at, tokens_valid_after)
       VALUES (?, ?, ?, ?, 0, ?, ?, 0)`,
    ),
    userById: p<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
    userByUsername: p<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    setPassword: p<[string, number, string]>('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
    // MAX: a clock that is behind (the CLI on another host) must not revive stale tokens.
    disableUser: p<[number, number, string]>(
      `UPDATE users SET disabled = 1, updated_at = ?, tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?`,
    ),
    enableUser: p<[number, string]>('UPDATE users SET disabled = 0, updated_at = ? WHERE id = ?'),
    setRoles: p<[string, number, number, string]>(
      `UPDATE users SET roles = ?, updated_at = ?, tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?`,
    ),

    insertSession: p<[string, string, number, number, number, number, string | null, string | null]>(
      `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    sessionById: p<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    sessionByTokenHash: p<[string], SessionRow>(
      'SELECT s.* FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = ?',
    ),
    activeSessions: p<[string, number, number], SessionRow>(
      `SELECT * FROM sessions
       WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
       ORDER BY created_at DESC, rowid DESC`,
    ),
    touchSession: p<[number, number, string], SessionRow>(
      `UPDATE sessions SET last_seen_at = ?, idle_expires_at = MIN(?, absolute_expires_at) WHERE id = ? RETURNING *`,
    ),
    revokeSession: p<[number, string, string], SessionRow>(
      'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL RETURNING *',
    ),
    revokeUserSessions: p<[number, string, string], SessionRow>(
      'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING *',
    ),

    insertToken: p<[string, string, number, number]>(
      'INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, ?, ?)',
    ),
    tokenByHash: p<[string], TokenRow>(
      'SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE hash = ?',
    ),
    liveToken: p<[string], TokenRow>(
      'SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE session_id = ? AND rotated_at IS NULL',
    ),
    markRotated: p<[number, string]>(
      'UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL',
    ),

    insertRevocation: p<[string, string | null, string, number]>(
      'INSERT INTO revocation_events (kind, session_id, user_id, at) VALUES (?, ?, ?, ?)',
    ),
    listRevocations: p<[number, number], RevocationRow>(
      'SELECT * FROM revocation_events WHERE seq > ? AND at >= ? ORDER BY seq',
    ),

    insertAudit: p<[number, string, string | null, string | null, string | null, string | null, string | null]>(
      'INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    // One statement per filter shape so each can use its index.
    auditAll: p<[number], AuditRow>('SELECT * FROM audit_events ORDER BY id DESC LIMIT ?'),
    auditByUser: p<[string, number], AuditRow>(
      'SELECT * FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?',
    ),
    auditByType: p<[string, number], AuditRow>(
      'SELECT * FROM audit_events WHERE type = ? ORDER BY id DESC LIMIT ?',
    ),
    auditByUserAndType: p<[string, string, number], AuditRow>(
      'SELECT * FROM audit_events WHERE user_id = ? AND type = ? ORDER BY id DESC LIMIT ?',
    ),

    // Batches (the last parameter is the batch size): see SQLiteStore.purgeExpired.
    purgeTokens: p<[number, number, number, number]>(
      `DELETE FROM refresh_tokens WHERE rowid IN (
         SELECT t.rowid FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
         WHERE s.absolute_expires_at < ? OR s.idle_expires_at < ? OR s.revoked_at < ? LIMIT ?)`,
    ),
    purgeSessions: p<[number, number, number, number]>(
      `DELETE FROM sessions WHERE rowid IN (
         SELECT rowid FROM sessions WHERE absolute_expires_at < ? OR idle_expires_at < ? OR revoked_at < ? LIMIT ?)`,
    ),
    purgeRevocations: p<[number, number]>(
      'DELETE FROM revocation_events WHERE seq IN (SELECT seq FROM revocation_events WHERE at < ? LIMIT ?)',
    ),

    insertSigningKey: p<[string, string, string, string, number, number]>(
      `INSERT INTO signing_keys (kid, alg, public_jwk, encrypted_private_key, created_at, activates_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    retireSigningKeys: p<[number, string]>('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?'),
    signingKeyByKid: p<[string], SigningKeyRow>('SELECT * FROM signing_keys WHERE kid = ?'),
    listSigningKeys: p<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY activates_at, created_at, kid'),
    deleteSigningKey: p<[string]>('DELETE FROM signing_keys WHERE kid = ?'),
  };
}

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;

export function toUser(row: UserRow): UserRecord {
  const roles: unknown = JSON.parse(row.roles);
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    // Only a hand-edited database gets here; failing loudly beats granting odd roles.
    throw new Error('users.roles is not a JSON array of strings.');
  }
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    tokensValidAfter: row.tokens_valid_after,
  };
}

/**
 * SQLite result codes (primary code, before any `_EXTENDED` suffix) meaning
 * the database cannot be used right now, as opposed to a bug in a query.
 */
const UNAVAILABLE = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
]);

/** The SQLite result code of a driver error, such as `SQLITE_CONSTRAINT_UNIQUE`. */
export function sqliteCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/**
 * Maps a driver error to `STORE_UNAVAILABLE` when it means the database is
 * unreachable, locked or damaged; returns anything else unchanged. The message
 * is the fixed one: driver messages can quote SQL and values.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof GatehouseError) return error;
  const code = sqliteCode(error);
  const primary = code?.match(/^SQLITE_[A-Z]+/)?.[0];
  if (primary !== undefined && UNAVAILABLE.has(primary)) {
    return new GatehouseError('STORE_UNAVAILABLE', { cause: error });
  }
  // better-sqlite3 throws a plain TypeError once the connection is closed.
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new GatehouseError('STORE_UNAVAILABLE', { cause: error });
  }
  return error;
}
