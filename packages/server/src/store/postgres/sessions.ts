/** Sessions and their refresh-token chains on PostgreSQL; rotation itself is in rotation.ts. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf } from '../rows.js';
import type { NewSession, RevokeReason, RotateRefreshTokenInput, RotationOutcome, SessionRecord, SessionStore } from '../session-store.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendRevocations, revokeAllOfUser } from './revocations.js';
import { rotate } from './rotation.js';
import { type SessionRow, SESSION_COLUMNS, mapFirst, only, qualifiedSessionColumns, sqlState, toSession } from './rows.js';

export class PostgresSessions implements SessionStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
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
