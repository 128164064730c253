/**
 * Row shapes of the SQLite store, the mapping of its user rows to records
 * (the other rows map as in ../rows.ts), and the mapping of driver errors.
 */
import { GatehouseError } from '../../core/errors.js';
import type { UserRecord } from '../store.js';
import type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow } from '../rows.js';

export type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow };
export { sameRoles, toAudit, toRevocation, toSession, toSigningKey } from '../rows.js';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string;
  disabled: number;
  created_at: number;
  updated_at: number;
  version: number;
}

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
    version: row.version,
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
