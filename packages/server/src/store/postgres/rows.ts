/**
 * Row shapes of the PostgreSQL store, their mapping to the store's records,
 * and the mapping of driver errors to Gatehouse errors. Time columns are
 * BIGINT milliseconds, read as numbers (see `types` in connection.ts).
 */
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type { UserRecord } from '../store.js';
import type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow } from '../rows.js';

/**
 * Runs one statement on the connection an operation holds. With a `name`, the
 * statement is prepared once per connection and only bound and executed after
 * that (for the hot path, where planning would cost as much as running).
 */
export type Run = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values?: readonly unknown[],
  name?: string,
) => Promise<pg.QueryResult<R>>;

export type { AuditRow, RevocationRow, SessionRow, SigningKeyRow, TokenRow };
export { sameRoles, toAudit, toRevocation, toSession, toSigningKey } from '../rows.js';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string[];
  disabled: boolean;
  created_at: number;
  updated_at: number;
  version: number;
}

/** The session columns in the order every statement selects them (no internal ordering column). */
export const SESSION_COLUMNS =
  'id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, revoked_at, revoke_reason, user_agent, ip';

/** `s.id, s.user_id, …`: the session columns for a statement that names the table `alias`. */
export function qualifiedSessionColumns(alias: string): string {
  return SESSION_COLUMNS.split(', ').map((c) => `${alias}.${c}`).join(', ');
}

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: row.roles,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
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

/** The one row a statement must have returned. */
export function only<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('Expected a row.');
  return row;
}

/** The first row mapped, or null when there is none. */
export function mapFirst<R, T>(rows: readonly R[], map: (row: R) => T): T | null {
  const row = rows[0];
  return row === undefined ? null : map(row);
}

/** The name of the constraint a PostgreSQL error reports, such as `users_username_key`. */
export function constraintOf(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.constraint : undefined;
}
