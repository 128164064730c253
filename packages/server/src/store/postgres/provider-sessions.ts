/** Provider sessions on PostgreSQL: a Gatehouse session's provider `sid` and sealed provider tokens. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import type { NewProviderSession, ProviderSessionMatch, ProviderSessionRecord, ProviderSessionStore } from '../provider-session-store.js';
import type { RevokeReason } from '../session-store.js';
import type { PostgresConnection } from './connection.js';
import { auditEventOf } from '../rows.js';
import { insertAudit } from './audit.js';
import { appendRevocations } from './revocations.js';
import { mapFirst, sqlState } from './rows.js';

interface ProviderSessionRow {
  session_id: string;
  provider_id: string;
  issuer: string;
  subject: string;
  sid: string | null;
  sealed_tokens: string;
  token_version: number;
  updated_at: number;
}

function toRecord(row: ProviderSessionRow): ProviderSessionRecord {
  return {
    sessionId: row.session_id,
    providerId: row.provider_id,
    issuer: row.issuer,
    subject: row.subject,
    sid: row.sid,
    sealedTokens: row.sealed_tokens,
    tokenVersion: row.token_version,
    updatedAt: row.updated_at,
  };
}

export class PostgresProviderSessions implements ProviderSessionStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async saveProviderSession(r: NewProviderSession): Promise<void> {
    await this.#db.one(async (run) => {
      try {
        await run(
          `INSERT INTO provider_sessions (session_id, provider_id, issuer, subject, sid, sealed_tokens, token_version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 0, $7)`,
          [r.sessionId, r.providerId, r.issuer, r.subject, r.sid, r.sealedTokens, r.updatedAt],
        );
      } catch (error) {
        if (sqlState(error) === '23503') throw new GatehouseError('SESSION_NOT_FOUND', { cause: error });
        throw error;
      }
    });
  }

  async findProviderSession(sessionId: string): Promise<ProviderSessionRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<ProviderSessionRow>('SELECT * FROM provider_sessions WHERE session_id = $1', [sessionId])).rows, toRecord));
  }

  async replaceProviderTokens(sessionId: string, expectedVersion: number, sealedTokens: string, at: number): Promise<boolean> {
    return this.#db.one(async (run) => {
      const { rowCount } = await run(
        'UPDATE provider_sessions SET sealed_tokens = $1, token_version = token_version + 1, updated_at = $2 WHERE session_id = $3 AND token_version = $4',
        [sealedTokens, at, sessionId, expectedVersion],
      );
      return rowCount === 1;
    });
  }

  async revokeProviderSessions(match: ProviderSessionMatch, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> {
    const { issuer, sid, subject } = match;
    if (sid === undefined && subject === undefined) return [];
    const conditions = ['issuer = $3'];
    const values: unknown[] = [at, reason, issuer];
    if (sid !== undefined) conditions.push(`sid = $${values.push(sid)}`);
    if (subject !== undefined) conditions.push(`subject = $${values.push(subject)}`);
    return this.#db.transaction(async (run) => {
      const { rows } = await run<{ id: string; user_id: string }>(
        `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
         WHERE revoked_at IS NULL AND id IN (SELECT session_id FROM provider_sessions WHERE ${conditions.join(' AND ')})
         RETURNING id, user_id`,
        values,
      );
      const byUser = new Map<string, string[]>();
      for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.id]);
      for (const [userId, ids] of byUser) await appendRevocations(run, 'session', ids, userId, at);
      if (audit !== undefined) for (const row of rows) await insertAudit(run, auditEventOf(audit, { at, userId: row.user_id, sessionId: row.id }));
      return rows.map((row) => row.id);
    });
  }
}
