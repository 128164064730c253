/** Sessions and their refresh-token chains on PostgreSQL; rotation itself is in rotation.ts. */
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
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendRevocations, revokeAllOfUser } from './revocations.js';
import { rotate } from './rotation.js';
import { type SessionRow, type UserRow, SESSION_COLUMNS, mapFirst, only, qualifiedSessionColumns, sqlState, toSession, toUser } from './rows.js';

/**
 * A sign-in's session in one statement (atomic without BEGIN/COMMIT, one
 * round trip). `FOR SHARE` holds the user row until the statement commits: a
 * password change, disable or role change waits for it and then ends the new
 * session like any other, and one that committed first is what this reads
 * (PostgreSQL re-reads a row it had to wait for). The session, its first
 * token and the audit record are inserted only when the user may sign in;
 * the user row comes back either way, so the caller learns why not.
 */
const OPEN_SESSION = `
  WITH u AS (
    SELECT * FROM users WHERE id = $2::text FOR SHARE
  ), s AS (
    INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip)
    SELECT $1::text, u.id, $3::bigint, $3::bigint, $4::bigint, $5::bigint, $6::text, $7::text FROM u
    WHERE NOT u.disabled AND ($9::text IS NULL OR u.password_hash = $9::text)
    RETURNING ${SESSION_COLUMNS}
  ), t AS (
    INSERT INTO refresh_tokens (hash, session_id, generation, created_at) SELECT $8::text, s.id, 0, s.created_at FROM s
  ), a AS (
    INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail)
    SELECT s.created_at, $10::text, s.user_id, s.id, $11::text, $12::text, $13::text FROM s
  )
  SELECT u.*, to_json(s) AS session FROM u LEFT JOIN s ON TRUE`;

/** The user, and the new session as JSON (its BIGINT times are numbers there too), null when none opened. */
type OpenedRow = UserRow & { session: SessionRow | null };

export class PostgresSessions implements SessionStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async openSession({ session: s, refreshTokenHash, passwordHash, audit }: OpenSessionInput): Promise<OpenSessionOutcome> {
    const event = auditEventOf(audit, { at: s.createdAt, userId: s.userId, sessionId: s.id });
    const { rows } = await this.#db.one((run) =>
      run<OpenedRow>(
        OPEN_SESSION,
        [
          s.id, s.userId, s.createdAt, s.idleExpiresAt, s.absoluteExpiresAt, s.userAgent, s.ip, refreshTokenHash, passwordHash ?? null,
          event.type, event.ip ?? null, event.userAgent ?? null, event.detail === undefined ? null : JSON.stringify(event.detail),
        ],
        'gatehouse_open_session',
      ),
    );
    const row = rows[0];
    if (row === undefined) return { status: 'refused', reason: 'user_not_found' };
    const user = toUser(row);
    if (row.session === null) return { status: 'refused', reason: user.disabled ? 'user_disabled' : 'password_changed' };
    return { status: 'opened', session: toSession(row.session), user };
  }

  async createSession(s: NewSession, refreshTokenHash: string): Promise<SessionRecord> {
    return this.#db.transaction(async (run) => {
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
    return this.#db.one(async (run) => mapFirst((await run<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id])).rows, toSession));
  }

  async findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null> {
    return this.#db.one(async (run) => {
      const { rows } = await run<SessionRow>(
        `SELECT ${qualifiedSessionColumns('s')} FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1`,
        [hash],
      );
      return mapFirst(rows, toSession);
    });
  }

  async listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#db.one(async (run) => {
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
    return rotate(this.#db, input);
  }

  async revokeSession(id: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<SessionRecord | null> {
    return this.#db.transaction(async (run) => {
      const { rows } = await run<SessionRow>(
        `UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING ${SESSION_COLUMNS}`,
        [at, reason, id],
      );
      const row = rows[0];
      if (row === undefined) return null;
      await appendRevocations(run, 'session', [row.id], row.user_id, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId: row.user_id, sessionId: row.id }));
      return toSession(row);
    });
  }

  async revokeUserSessions(userId: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.transaction(async (run) => {
      const revoked = await revokeAllOfUser(run, userId, reason, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId, sessionsRevoked: revoked.length }));
      return revoked;
    });
  }
}
