/** Sessions and their refresh-token chains on SQLite; rotation itself is in rotation.ts. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf } from '../rows.js';
import type {
  NewSession,
  OpenSessionInput,
  OpenSessionOutcome,
  RevokeReason,
  RotateRefreshTokenInput,
  RotationOutcome,
  SessionRecord,
  SessionStore,
} from '../session-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { SQLiteRotation } from './rotation.js';
import { type SessionRow, type UserRow, sqliteCode, toSession, toUser } from './rows.js';

export class SQLiteSessions implements SessionStore {
  readonly #db: SQLiteDatabase;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #rotation: SQLiteRotation;
  readonly #q;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#db = db;
    this.#revocations = revocations;
    this.#audit = audit;
    this.#rotation = new SQLiteRotation(db, revocations, audit);
    this.#q = {
      insert: db.prepare<[string, string, number, number, number, number, string | null, string | null]>(
        `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertFirstToken: db.prepare<[string, string, number]>(
        'INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (?, ?, 0, ?)',
      ),
      byId: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      user: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byTokenHash: db.prepare<[string], SessionRow>(
        'SELECT s.* FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = ?',
      ),
      active: db.prepare<[string, number, number], SessionRow>(
        `SELECT * FROM sessions
         WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
         ORDER BY created_at DESC, rowid DESC`,
      ),
      revoke: db.prepare<[number, string, string], SessionRow>(
        'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL RETURNING *',
      ),
    };
  }

  async openSession({ session, refreshTokenHash, passwordHash, audit }: OpenSessionInput): Promise<OpenSessionOutcome> {
    // IMMEDIATE: no other writer (the CLI included) can change the user between this read and the commit.
    return this.#db.write((): OpenSessionOutcome => {
      const row = this.#q.user.get(session.userId);
      if (row === undefined) return { status: 'refused', reason: 'user_not_found' };
      const user = toUser(row);
      if (user.disabled) return { status: 'refused', reason: 'user_disabled' };
      if (passwordHash !== undefined && user.passwordHash !== passwordHash) return { status: 'refused', reason: 'password_changed' };
      const record = this.#insert(session, refreshTokenHash);
      this.#audit.insert(auditEventOf(audit, { at: session.createdAt, userId: user.id, sessionId: record.id }));
      return { status: 'opened', session: record, user };
    });
  }

  async createSession(s: NewSession, refreshTokenHash: string): Promise<SessionRecord> {
    return this.#db.write(() => this.#insert(s, refreshTokenHash));
  }

  /** Inserts a session and its first refresh token, inside the caller's transaction. */
  #insert(s: NewSession, refreshTokenHash: string): SessionRecord {
    try {
      this.#q.insert.run(s.id, s.userId, s.createdAt, s.createdAt, s.idleExpiresAt, s.absoluteExpiresAt, s.userAgent, s.ip);
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GatehouseError('USER_NOT_FOUND', { cause: error });
      throw error;
    }
    this.#q.insertFirstToken.run(refreshTokenHash, s.id, s.createdAt);
    const row = this.#q.byId.get(s.id);
    if (row === undefined) throw new Error('Session vanished during insert.');
    return toSession(row);
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.byId.get(id);
      return row === undefined ? null : toSession(row);
    });
  }

  async findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.byTokenHash.get(hash);
      return row === undefined ? null : toSession(row);
    });
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#db.run(() => this.#q.active.all(userId, now, now).map(toSession));
  }

  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return this.#rotation.rotate(input);
  }

  async revokeSession(id: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<SessionRecord | null> {
    return this.#db.write(() => {
      const row = this.#q.revoke.get(at, reason, id);
      if (row === undefined) return null;
      this.#revocations.append('session', row.id, row.user_id, at);
      if (audit !== undefined) this.#audit.insert(auditEventOf(audit, { at, userId: row.user_id, sessionId: row.id }));
      return toSession(row);
    });
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.write(() => {
      const revoked = this.#revocations.revokeAllOfUser(userId, reason, at);
      if (audit !== undefined) this.#audit.insert(auditEventOf(audit, { at, userId, sessionsRevoked: revoked.length }));
      return revoked;
    });
  }
}
