/**
 * The store for many instances: PostgreSQL through a `pg` connection pool.
 * Behaves like the SQLite store (one contract suite runs against both); what
 * differs is concurrency, so every operation that reads before it writes
 * locks what it read, and every wait is bounded so an unreachable or hung
 * database fails closed with `STORE_UNAVAILABLE` instead of hanging requests.
 */
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type {
  AuditEvent,
  AuditEventType,
  NewSession,
  NewSigningKey,
  NewUser,
  RevocationEvent,
  RevokeReason,
  RotateRefreshTokenInput,
  RotationOutcome,
  SessionRecord,
  SigningKeyRecord,
  StoredAuditEvent,
  Store,
  UserRecord,
} from '../store.js';
import { applyMigrations, requireCurrentSchema } from './migrations.js';
import {
  type AuditRow,
  type RevocationRow,
  type Run,
  type SessionRow,
  type SigningKeyRow,
  type TokenRow,
  type UserRow,
  SESSION_COLUMNS,
  isRetryable,
  sqlState,
  toAudit,
  toRevocation,
  toSession,
  toSigningKey,
  toStoreError,
  toUser,
} from './rows.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Connection string, such as `postgres://gatehouse@db.internal:5432/gatehouse`.
   * What it leaves out comes from the standard `PG*` environment variables
   * (`PGPASSWORD` keeps the password out of configuration files).
   */
  readonly url: string;
  /** Schema that holds Gatehouse's tables; `migrate` creates it. Default `public`. */
  readonly schema?: string;
  /** Most connections the pool opens. Default 10. */
  readonly poolSize?: number;
  /**
   * Upper bound for connecting, for waiting for a pooled connection, and for
   * each statement (server-side `statement_timeout` and `lock_timeout`, plus a
   * client-side read timeout half a second later, for a database that stopped
   * answering). Migrations are exempt, except for connecting. Default 3000.
   */
  readonly timeoutMs?: number;
  /** Rows `purgeExpired` deletes per statement, so it never holds locks for long. Default 500. */
  readonly purgeBatchSize?: number;
  /** Told about connections that failed while idle in the pool (nobody is waiting on them). */
  readonly onIdleError?: (error: Error) => void;
}

/** Thrown inside a transaction to roll it back and still answer `value`. */
class Rollback<T> {
  constructor(readonly value: T) {}
}

/** How often a transaction that lost a deadlock or serialization race is tried again. */
const ATTEMPTS = 3;
const INT8_OID = 20;

/**
 * {@link Store} on PostgreSQL. Create it with `openPostgresStore` (which loads
 * `pg` only when called); call
 * {@link PostgresStore.migrate} (or {@link PostgresStore.requireCurrentSchema}
 * when migrations are run separately) before use.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  /** How to connect, without the per-statement timeouts (what migrations use). */
  readonly #connection: pg.ClientConfig;
  readonly #schema: string;
  readonly #purgeBatchSize: number;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    const timeoutMs = Math.max(100, Math.trunc(options.timeoutMs ?? 3000));
    this.#schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#schema)) throw new TypeError('schema must match [a-z_][a-z0-9_]{0,62}');
    this.#purgeBatchSize = Math.max(1, Math.trunc(options.purgeBatchSize ?? 500));
    // Per pool, not pg's global parsers: the application embedding Gatehouse may use pg too.
    // BIGINT columns hold milliseconds and identities, far below 2^53.
    const types = new pg.TypeOverrides();
    types.setTypeParser(INT8_OID, Number);
    // pg lets the URL's own `options` parameter replace ours, which would lose the search_path: merge them instead.
    const url = new URL(options.url);
    const urlOptions = url.searchParams.get('options');
    url.searchParams.delete('options');
    this.#connection = {
      connectionString: url.toString(),
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: 'gatehouse',
      // The schema name is restricted above, so it needs no escaping here.
      options: `${urlOptions === null ? '' : `${urlOptions} `}-c search_path=${this.#schema}`,
      types,
    };
    this.#pool = new pg.Pool({
      ...this.#connection,
      max: Math.max(1, Math.trunc(options.poolSize ?? 10)),
      statement_timeout: timeoutMs,
      lock_timeout: timeoutMs,
      // The server usually cancels first (and the connection survives); this catches a database that went silent.
      query_timeout: timeoutMs + 500,
      idle_in_transaction_session_timeout: timeoutMs * 2,
      idleTimeoutMillis: 30_000,
    });
    const onIdleError = options.onIdleError ?? (() => undefined);
    // Without these listeners a connection that dies (database restart, network cut) crashes the process.
    this.#pool.on('error', onIdleError);
    // A checked-out connection's failure also reaches its query, and the pool re-emits an idle one's: one report each.
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * Runs on a connection of its own without statement or lock timeouts: a
   * migration may take long, and an instance starting meanwhile must wait
   * for the advisory lock instead of giving up. Only connecting is bounded.
   */
  async migrate(): Promise<void> {
    if (this.#closed) throw closedError();
    const client = new pg.Client(this.#connection);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new GatehouseError('STORE_UNAVAILABLE', { cause: error });
    }
    try {
      await applyMigrations((sql, values) => client.query(sql, values === undefined ? undefined : [...values]), this.#schema);
    } catch (error) {
      throw error instanceof pg.DatabaseError || error instanceof GatehouseError ? toStoreError(error) : new GatehouseError('STORE_UNAVAILABLE', { cause: error });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Rejects with `STORE_UNAVAILABLE` unless the schema is exactly at the version this build needs. */
  async requireCurrentSchema(): Promise<void> {
    await this.#use((run) => requireCurrentSchema(run, this.#schema), { transaction: false });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async createUser(u: NewUser): Promise<UserRecord> {
    return this.#one(async (run) => {
      try {
        const { rows } = await run<UserRow>(
          `INSERT INTO users (id, username, password_hash, roles, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
          [u.id, u.username, u.passwordHash, u.roles, u.createdAt],
        );
        return toUser(only(rows));
      } catch (error) {
        if (sqlState(error) === '23505' && constraintOf(error) === 'users_username_key') {
          throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        }
        throw error;
      }
    });
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.#one(async (run) => mapFirst((await run<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows, toUser));
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.#one(async (run) => mapFirst((await run<UserRow>('SELECT * FROM users WHERE username = $1', [username])).rows, toUser));
  }

  async changePassword(userId: string, passwordHash: string, at: number): Promise<string[]> {
    return this.#transaction(async (run) => {
      mustChange(await run('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [passwordHash, at, userId]));
      return this.#revokeAll(run, userId, 'password_changed', at);
    });
  }

  async disableUser(userId: string, at: number): Promise<string[]> {
    return this.#transaction(async (run) => {
      // GREATEST: a clock that is behind (the CLI on another host) must not revive stale tokens.
      mustChange(
        await run(
          'UPDATE users SET disabled = TRUE, updated_at = $1, tokens_valid_after = GREATEST(tokens_valid_after, $1) WHERE id = $2',
          [at, userId],
        ),
      );
      const revoked = await this.#revokeAll(run, userId, 'user_disabled', at);
      await appendRevocations(run, 'user', [null], userId, at);
      return revoked;
    });
  }

  async enableUser(userId: string, at: number): Promise<void> {
    await this.#one(async (run) => mustChange(await run('UPDATE users SET disabled = FALSE, updated_at = $1 WHERE id = $2', [at, userId])));
  }

  async setRoles(userId: string, roles: readonly string[], at: number): Promise<void> {
    await this.#transaction(async (run) => {
      mustChange(
        await run(
          'UPDATE users SET roles = $1, updated_at = $2, tokens_valid_after = GREATEST(tokens_valid_after, $2) WHERE id = $3',
          [roles, at, userId],
        ),
      );
      await appendRevocations(run, 'user', [null], userId, at);
    });
  }

  async createSession(s: NewSession, refreshTokenHash: string): Promise<SessionRecord> {
    return this.#transaction(async (run) => {
      let rows: SessionRow[];
      try {
        ({ rows } = await run<SessionRow>(
          `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip)
           VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING ${SESSION_COLUMNS}`,
          [s.id, s.userId, s.createdAt, s.idleExpiresAt, s.absoluteExpiresAt, s.userAgent, s.ip],
        ));
      } catch (error) {
        if (sqlState(error) === '23503') throw new GatehouseError('USER_NOT_FOUND', { cause: error });
        throw error;
      }
      await run('INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES ($1, $2, 0, $3)', [refreshTokenHash, s.id, s.createdAt]);
      return toSession(only(rows));
    });
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    return this.#one(async (run) => mapFirst((await run<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id])).rows, toSession));
  }

  async findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null> {
    return this.#one(async (run) => {
      const { rows } = await run<SessionRow>(
        `SELECT ${qualified('s')} FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1`,
        [hash],
      );
      return mapFirst(rows, toSession);
    });
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#one(async (run) => {
      const { rows } = await run<SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
         ORDER BY created_at DESC, ord DESC`,
        [userId, now],
      );
      return rows.map(toSession);
    });
  }

  async rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return this.#transaction((run) => rotate(run, input));
  }

  async revokeSession(id: string, reason: RevokeReason, at: number): Promise<SessionRecord | null> {
    return this.#transaction(async (run) => {
      const { rows } = await run<SessionRow>(
        `UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING ${SESSION_COLUMNS}`,
        [at, reason, id],
      );
      const row = rows[0];
      if (row === undefined) return null;
      await appendRevocations(run, 'session', [row.id], row.user_id, at);
      return toSession(row);
    });
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, at: number): Promise<string[]> {
    return this.#transaction((run) => this.#revokeAll(run, userId, reason, at));
  }

  async listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]> {
    return this.#one(async (run) => {
      const { rows } = await run<RevocationRow>(
        'SELECT seq, kind, session_id, user_id, at FROM revocation_events WHERE seq > $1 AND at >= $2 ORDER BY seq',
        [afterSeq, notBefore],
      );
      return rows.map(toRevocation);
    });
  }

  async appendAudit(e: AuditEvent): Promise<void> {
    await this.#one((run) =>
      run(
        'INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [e.at, e.type, e.userId ?? null, e.sessionId ?? null, e.ip ?? null, e.userAgent ?? null, e.detail === undefined ? null : JSON.stringify(e.detail)],
      ),
    );
  }

  async listAudit(
    filter: { readonly userId?: string; readonly type?: AuditEventType; readonly limit?: number } = {},
  ): Promise<StoredAuditEvent[]> {
    const limit = Math.max(0, Math.trunc(filter.limit ?? 100));
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.userId !== undefined) where.push(`user_id = $${values.push(filter.userId)}`);
    if (filter.type !== undefined) where.push(`type = $${values.push(filter.type)}`);
    const sql = `SELECT * FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.push(limit)}`;
    return this.#one(async (run) => (await run<AuditRow>(sql, values)).rows.map(toAudit));
  }

  /**
   * Deletes in batches, each its own short statement, so requests never queue
   * behind a long delete and no batch runs into the statement timeout.
   * Refresh tokens go first, in batches of their own: a long-lived session
   * holds thousands (one per rotation), which a cascading session delete
   * would have to remove in one go. SKIP LOCKED leaves sessions another
   * transaction is using to a later purge, and lets several instances purge
   * at once without waiting on each other.
   */
  async purgeExpired(before: number): Promise<number> {
    const batches = async (sql: string, size: number): Promise<number> => {
      let total = 0;
      for (;;) {
        const { rowCount } = await this.#one((run) => run(sql, [before, size]));
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < size) return total;
      }
    };
    await batches(
      `DELETE FROM refresh_tokens WHERE hash IN (
         SELECT t.hash FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
         WHERE s.absolute_expires_at < $1 OR s.idle_expires_at < $1 OR s.revoked_at < $1 LIMIT $2)`,
      this.#purgeBatchSize * 10,
    );
    const sessions = await batches(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1
         LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      this.#purgeBatchSize,
    );
    await batches('DELETE FROM revocation_events WHERE seq IN (SELECT seq FROM revocation_events WHERE at < $1 LIMIT $2)', this.#purgeBatchSize);
    return sessions;
  }

  async insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> {
    return this.#transaction(async (run) => {
      // Two rotations at once must not both leave their key unretired: take turns (readers are not blocked).
      await run('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      try {
        await run(
          `INSERT INTO signing_keys (kid, alg, public_jwk, encrypted_private_key, created_at, activates_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [key.kid, key.alg, key.publicJwk, key.encryptedPrivateKey, key.createdAt, key.activatesAt],
        );
      } catch (error) {
        if (sqlState(error) === '23505') throw new GatehouseError('KEY_ID_TAKEN', { cause: error });
        throw error;
      }
      await run('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND kid <> $2', [key.activatesAt, key.kid]);
      return toSigningKey(only((await run<SigningKeyRow>('SELECT * FROM signing_keys WHERE kid = $1', [key.kid])).rows));
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#one(async (run) => {
      // COLLATE "C": byte order, as SQLite compares, whatever the database's locale.
      const { rows } = await run<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY activates_at, created_at, kid COLLATE "C"');
      return rows.map(toSigningKey);
    });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#one(async (run) => ((await run('DELETE FROM signing_keys WHERE kid = $1', [kid])).rowCount ?? 0) > 0);
  }

  /** Revokes every not-yet-revoked session of a user, one event each. Call inside a transaction. */
  async #revokeAll(run: Run, userId: string, reason: RevokeReason, at: number): Promise<string[]> {
    const { rows } = await run<{ id: string }>(
      'UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL RETURNING id',
      [at, reason, userId],
    );
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) await appendRevocations(run, 'session', ids, userId, at);
    return ids;
  }

  #one<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    return this.#use(fn, { transaction: false });
  }

  #transaction<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    return this.#use(fn, { transaction: true });
  }

  /**
   * Runs `fn` on one pooled connection, inside BEGIN/COMMIT when asked, and
   * maps failures: anything the driver throws that is not an answer from
   * PostgreSQL (refused, reset, timed out) means the connection is gone, so it
   * is discarded, and the caller gets `STORE_UNAVAILABLE`. A transaction that
   * loses a deadlock or serialization race ran to nothing and is retried.
   */
  async #use<T>(fn: (run: Run) => Promise<T>, options: { readonly transaction: boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw closedError();
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw new GatehouseError('STORE_UNAVAILABLE', { cause: error });
      }
      let broken: Error | undefined;
      const run: Run = async (sql, values) => {
        try {
          return await client.query(sql, values === undefined ? undefined : [...values]);
        } catch (error) {
          if (!(error instanceof pg.DatabaseError)) broken ??= error instanceof Error ? error : new Error(String(error));
          throw error;
        }
      };
      try {
        if (options.transaction) await run('BEGIN');
        const result = await fn(run);
        if (options.transaction) await run('COMMIT');
        return result;
      } catch (error) {
        if (options.transaction && broken === undefined) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken ??= rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
          });
        }
        if (error instanceof Rollback) return error.value as T;
        if (broken === undefined && isRetryable(error) && attempt < ATTEMPTS) continue;
        // Once the connection broke, whatever surfaced (a ROLLBACK failure, a driver error) means the same.
        if (broken !== undefined && !(error instanceof GatehouseError)) throw new GatehouseError('STORE_UNAVAILABLE', { cause: broken });
        throw toStoreError(error);
      } finally {
        // A broken connection is destroyed rather than returned to the pool.
        client.release(broken);
      }
    }
  }
}

/** The rotation rules of {@link Store.rotateRefreshToken}, inside one transaction. */
async function rotate(run: Run, { presentedHash, successorHash, now, graceMs, idleTimeoutMs }: RotateRefreshTokenInput): Promise<RotationOutcome> {
  // Lock the session first: every rotation of one family queues here, and
  // whatever is read after the lock is what the previous holder committed.
  const locked = await run<SessionRow>(
    `SELECT ${qualified('s')} FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1 FOR UPDATE OF s`,
    [presentedHash],
  );
  const sessionRow = locked.rows[0];
  if (sessionRow === undefined) return { status: 'invalid', reason: 'unknown' };
  // The token again (its state as the previous lock holder left it) and the user, in one round trip.
  const current = await run<UserRow & Pick<TokenRow, 'generation' | 'rotated_at'>>(
    'SELECT t.generation, t.rotated_at, u.* FROM refresh_tokens t, users u WHERE t.hash = $1 AND u.id = $2',
    [presentedHash, sessionRow.user_id],
  );
  const row = current.rows[0];
  if (row === undefined) return { status: 'invalid', reason: 'unknown' };
  const token = { generation: row.generation, rotated_at: row.rotated_at };
  const session = toSession(sessionRow);
  if (session.revokedAt !== null) return { status: 'invalid', reason: 'revoked' };
  const user = toUser(row);
  if (user.disabled) return { status: 'invalid', reason: 'user_disabled' };
  if (now >= session.idleExpiresAt || now >= session.absoluteExpiresAt) return { status: 'invalid', reason: 'expired' };

  if (token.rotated_at === null) {
    await run('UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2 AND rotated_at IS NULL', [now, presentedHash]);
    const inserted = await run(
      'INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING',
      [successorHash, session.id, token.generation + 1, now],
    );
    // A successor that already exists belongs to someone else: undo the mark and change nothing.
    if (inserted.rowCount === 0) throw new Rollback<RotationOutcome>({ status: 'invalid', reason: 'unknown' });
    const updated = await run<SessionRow>(
      `UPDATE sessions SET last_seen_at = $1, idle_expires_at = LEAST($2::bigint, absolute_expires_at) WHERE id = $3 RETURNING ${SESSION_COLUMNS}`,
      [now, now + idleTimeoutMs, session.id],
    );
    return { status: 'rotated', session: toSession(only(updated.rows)), user };
  }

  if (now - token.rotated_at <= graceMs) {
    const live = (await run<TokenRow>('SELECT hash, session_id, generation, rotated_at FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL', [session.id])).rows[0];
    if (live === undefined) throw new Error('Session has no live refresh token.');
    return { status: 'grace', session, user, generationsBehind: live.generation - token.generation, liveHash: live.hash };
  }

  const revoked = await run<SessionRow>(
    `UPDATE sessions SET revoked_at = $1, revoke_reason = 'refresh_token_reused' WHERE id = $2 RETURNING ${SESSION_COLUMNS}`,
    [now, session.id],
  );
  await appendRevocations(run, 'session', [session.id], session.userId, now);
  return { status: 'reused', session: toSession(only(revoked.rows)) };
}

/**
 * Appends revocation events. The table lock (which plain reads ignore) makes
 * writers take turns until they commit, so events become visible in `seq`
 * order: a reader that has seen seq N can never later find a smaller seq
 * committed behind it, which listRevocations' cursor relies on. Without it,
 * identity values are handed out at insert time but committed in any order.
 */
async function appendRevocations(run: Run, kind: 'session' | 'user', sessionIds: readonly (string | null)[], userId: string, at: number): Promise<void> {
  await run('LOCK TABLE revocation_events IN EXCLUSIVE MODE');
  await run(
    `INSERT INTO revocation_events (kind, session_id, user_id, at)
     SELECT $1, sid, $3, $4 FROM unnest($2::text[]) WITH ORDINALITY AS x (sid, n) ORDER BY n`,
    [kind, sessionIds, userId, at],
  );
}

function closedError(): GatehouseError {
  return new GatehouseError('STORE_UNAVAILABLE', { message: 'The PostgreSQL store is closed.' });
}

function qualified(alias: string): string {
  return SESSION_COLUMNS.split(', ').map((c) => `${alias}.${c}`).join(', ');
}

function only<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('Expected a row.');
  return row;
}

function mapFirst<R, T>(rows: readonly R[], map: (row: R) => T): T | null {
  const row = rows[0];
  return row === undefined ? null : map(row);
}

function mustChange(result: pg.QueryResult): void {
  if ((result.rowCount ?? 0) === 0) throw new GatehouseError('USER_NOT_FOUND');
}

function constraintOf(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.constraint : undefined;
}
