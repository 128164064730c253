/**
 * The embedded default store. better-sqlite3 is synchronous, so every method
 * runs to completion inside one call; the transactions are still needed
 * because the CLI (another process) may write to the same file.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
import { applyMigrations } from './migrations.js';
import {
  type Statements,
  type UserRow,
  prepareStatements,
  sqliteCode,
  toAudit,
  toRevocation,
  toSession,
  toSigningKey,
  toStoreError,
  toUser,
} from './rows.js';

/** Options of {@link openSQLiteStore}. */
export interface SQLiteStoreOptions {
  /** Database file, or `':memory:'`. Missing parent directories are created. */
  readonly path: string;
  /** How long to wait for another process's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

type Db = Database.Database;

/** Sessions or revocation events one purge step deletes; ten times as many refresh tokens. */
const PURGE_BATCH = 200;

/**
 * {@link Store} on one SQLite database. Takes ownership of `db`: configures
 * it, migrates it and closes it in {@link SQLiteStore.close}. Prefer
 * {@link openSQLiteStore}, which also creates the file safely.
 */
export class SQLiteStore implements Store {
  readonly #db: Db;
  readonly #q: Statements;
  readonly #rotate: Database.Transaction<(input: RotateRefreshTokenInput) => RotationOutcome>;
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(db: Db, options: { readonly busyTimeoutMs?: number } = {}) {
    this.#db = db;
    // busy_timeout first, so that switching to WAL waits for other processes too.
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
    // loss, and a lost logout or reuse detection would bring a session back.
    // Rotation throughput drops (about 14k/s to 4.6k/s here), still far above need.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Statements can only be prepared against tables that exist.
    applyMigrations(db);
    this.#q = prepareStatements(db);
    this.#rotate = db.transaction((input: RotateRefreshTokenInput) => this.#rotateNow(input));
    this.#tx = db.transaction((fn: () => unknown) => fn());
  }

  async migrate(): Promise<void> {
    this.#run(() => applyMigrations(this.#db));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    return this.#run(() => {
      try {
        this.#q.insertUser.run(user.id, user.username, user.passwordHash, JSON.stringify(user.roles), user.createdAt, user.createdAt);
      } catch (error) {
        // The only UNIQUE column of users besides the primary key.
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        throw error;
      }
      return this.#user(user.id);
    });
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.#run(() => this.#userOrNull(this.#q.userById.get(id)));
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.#run(() => this.#userOrNull(this.#q.userByUsername.get(username)));
  }

  async changePassword(userId: string, passwordHash: string, at: number): Promise<string[]> {
    return this.#write(() => {
      this.#mustChange(this.#q.setPassword.run(passwordHash, at, userId).changes);
      return this.#revokeAll(userId, 'password_changed', at);
    });
  }

  async disableUser(userId: string, at: number): Promise<string[]> {
    return this.#write(() => {
      this.#mustChange(this.#q.disableUser.run(at, at, userId).changes);
      const revoked = this.#revokeAll(userId, 'user_disabled', at);
      this.#q.insertRevocation.run('user', null, userId, at);
      return revoked;
    });
  }

  async enableUser(userId: string, at: number): Promise<void> {
    this.#run(() => this.#mustChange(this.#q.enableUser.run(at, userId).changes));
  }

  async setRoles(userId: string, roles: readonly string[], at: number): Promise<void> {
    this.#write(() => {
      this.#mustChange(this.#q.setRoles.run(JSON.stringify(roles), at, at, userId).changes);
      this.#q.insertRevocation.run('user', null, userId, at);
    });
  }

  async createSession(s: NewSession, refreshTokenHash: string): Promise<SessionRecord> {
    return this.#write(() => {
      try {
        this.#q.insertSession.run(s.id, s.userId, s.createdAt, s.createdAt, s.idleExpiresAt, s.absoluteExpiresAt, s.userAgent, s.ip);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GatehouseError('USER_NOT_FOUND', { cause: error });
        throw error;
      }
      this.#q.insertToken.run(refreshTokenHash, s.id, 0, s.createdAt);
      return this.#session(s.id);
    });
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    return this.#run(() => {
      const row = this.#q.sessionById.get(id);
      return row === undefined ? null : toSession(row);
    });
  }

  async findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null> {
    return this.#run(() => {
      const row = this.#q.sessionByTokenHash.get(hash);
      return row === undefined ? null : toSession(row);
    });
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#run(() => this.#q.activeSessions.all(userId, now, now).map(toSession));
  }

  async rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    // IMMEDIATE: the outcome depends on what we read, so take the write lock before reading.
    return this.#run(() => this.#rotate.immediate(input));
  }

  async revokeSession(id: string, reason: RevokeReason, at: number): Promise<SessionRecord | null> {
    return this.#write(() => {
      const row = this.#q.revokeSession.get(at, reason, id);
      if (row === undefined) return null;
      this.#q.insertRevocation.run('session', row.id, row.user_id, at);
      return toSession(row);
    });
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, at: number): Promise<string[]> {
    return this.#write(() => this.#revokeAll(userId, reason, at));
  }

  async listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]> {
    return this.#run(() => this.#q.listRevocations.all(afterSeq, notBefore).map(toRevocation));
  }

  async appendAudit(e: AuditEvent): Promise<void> {
    this.#run(() => {
      const detail = e.detail === undefined ? null : JSON.stringify(e.detail);
      this.#q.insertAudit.run(e.at, e.type, e.userId ?? null, e.sessionId ?? null, e.ip ?? null, e.userAgent ?? null, detail);
    });
  }

  async listAudit(
    filter: { readonly userId?: string; readonly type?: AuditEventType; readonly limit?: number } = {},
  ): Promise<StoredAuditEvent[]> {
    // SQLite reads a negative LIMIT as "no limit"; never let that through.
    const limit = Math.max(0, Math.trunc(filter.limit ?? 100));
    const { userId, type } = filter;
    return this.#run(() => {
      const q = this.#q;
      const rows =
        userId !== undefined && type !== undefined ? q.auditByUserAndType.all(userId, type, limit)
        : userId !== undefined ? q.auditByUser.all(userId, limit)
        : type !== undefined ? q.auditByType.all(type, limit)
        : q.auditAll.all(limit);
      return rows.map(toAudit);
    });
  }

  /**
   * Deletes in batches, each its own short write transaction, and lets the
   * event loop run in between: better-sqlite3 is synchronous, so one large
   * DELETE would stall every request (and hold the write lock) until it ended.
   * Refresh tokens go first, in batches of their own: a long-lived session
   * holds thousands (one per rotation), which its cascading delete would
   * otherwise remove in one go.
   */
  async purgeExpired(before: number): Promise<number> {
    const batches = async (step: (size: number) => number, size: number): Promise<number> => {
      let total = 0;
      for (;;) {
        const changes = this.#write(() => step(size));
        total += changes;
        if (changes < size) return total;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const q = this.#q;
    await batches((size) => q.purgeTokens.run(before, before, before, size).changes, PURGE_BATCH * 10);
    const sessions = await batches((size) => q.purgeSessions.run(before, before, before, size).changes, PURGE_BATCH);
    await batches((size) => q.purgeRevocations.run(before, size).changes, PURGE_BATCH);
    return sessions;
  }

  async insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> {
    return this.#write(() => {
      try {
        this.#q.insertSigningKey.run(key.kid, key.alg, key.publicJwk, key.encryptedPrivateKey, key.createdAt, key.activatesAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new GatehouseError('KEY_ID_TAKEN', { cause: error });
        throw error;
      }
      this.#q.retireSigningKeys.run(key.activatesAt, key.kid);
      const row = this.#q.signingKeyByKid.get(key.kid);
      if (row === undefined) throw new Error('Signing key vanished during insert.');
      return toSigningKey(row);
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#run(() => this.#q.listSigningKeys.all().map(toSigningKey));
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#run(() => this.#q.deleteSigningKey.run(kid).changes > 0);
  }

  #rotateNow({ presentedHash, successorHash, now, graceMs, idleTimeoutMs }: RotateRefreshTokenInput): RotationOutcome {
    const q = this.#q;
    const token = q.tokenByHash.get(presentedHash);
    if (token === undefined) return { status: 'invalid', reason: 'unknown' };
    const session = this.#session(token.session_id);
    if (session.revokedAt !== null) return { status: 'invalid', reason: 'revoked' };
    const user = this.#user(session.userId);
    if (user.disabled) return { status: 'invalid', reason: 'user_disabled' };
    if (now >= session.idleExpiresAt || now >= session.absoluteExpiresAt) return { status: 'invalid', reason: 'expired' };

    if (token.rotated_at === null) {
      if (q.tokenByHash.get(successorHash) !== undefined) return { status: 'invalid', reason: 'unknown' };
      q.markRotated.run(now, presentedHash);
      q.insertToken.run(successorHash, session.id, token.generation + 1, now);
      const updated = q.touchSession.get(now, now + idleTimeoutMs, session.id);
      if (updated === undefined) throw new Error('Session vanished during rotation.');
      return { status: 'rotated', session: toSession(updated), user };
    }

    if (now - token.rotated_at <= graceMs) {
      const live = q.liveToken.get(session.id);
      if (live === undefined) throw new Error('Session has no live refresh token.');
      return { status: 'grace', session, user, generationsBehind: live.generation - token.generation, liveHash: live.hash };
    }

    const revoked = q.revokeSession.get(now, 'refresh_token_reused', session.id);
    if (revoked === undefined) throw new Error('Session vanished during rotation.');
    q.insertRevocation.run('session', session.id, session.userId, now);
    return { status: 'reused', session: toSession(revoked) };
  }

  /** Revokes every not-yet-revoked session of a user, one event each. Call inside a transaction. */
  #revokeAll(userId: string, reason: RevokeReason, at: number): string[] {
    const rows = this.#q.revokeUserSessions.all(at, reason, userId);
    for (const row of rows) this.#q.insertRevocation.run('session', row.id, userId, at);
    return rows.map((row) => row.id);
  }

  #user(id: string): UserRecord {
    const row = this.#q.userById.get(id);
    if (row === undefined) throw new GatehouseError('USER_NOT_FOUND');
    return toUser(row);
  }

  #userOrNull(row: UserRow | undefined): UserRecord | null {
    return row === undefined ? null : toUser(row);
  }

  #session(id: string): SessionRecord {
    const row = this.#q.sessionById.get(id);
    if (row === undefined) throw new GatehouseError('SESSION_NOT_FOUND');
    return toSession(row);
  }

  #mustChange(changes: number): void {
    if (changes === 0) throw new GatehouseError('USER_NOT_FOUND');
  }

  /** Runs `fn` in one IMMEDIATE transaction: every write here reads first or spans statements. */
  #write<T>(fn: () => T): T {
    return this.#run(() => this.#tx.immediate(fn) as T);
  }

  #run<T>(fn: () => T): T {
    if (!this.#db.open) throw new GatehouseError('STORE_UNAVAILABLE', { message: 'The SQLite store is closed.' });
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/**
 * Opens (creating if needed) the SQLite database at `options.path` and
 * migrates it. A new file is created with mode 0600: it holds password hashes.
 * Throws `GatehouseError('STORE_UNAVAILABLE')` when the file cannot be opened,
 * is not a database, or was written by a newer Gatehouse.
 */
export function openSQLiteStore(options: SQLiteStoreOptions): SQLiteStore {
  let db: Db | undefined;
  try {
    if (options.path !== ':memory:' && options.path !== '') {
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      createPrivateFile(options.path);
    }
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    return new SQLiteStore(db, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  } catch (error) {
    if (db?.open) db.close();
    const mapped = toStoreError(error);
    throw mapped instanceof GatehouseError ? mapped : new GatehouseError('STORE_UNAVAILABLE', { cause: error });
  }
}

/** Creates `path` with mode 0600 unless it exists; SQLite would use 0644. */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
