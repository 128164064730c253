/** Provider sessions on SQLite: a Gatehouse session's provider `sid` and sealed provider tokens. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import type { NewProviderSession, ProviderSessionMatch, ProviderSessionRecord, ProviderSessionStore } from '../provider-session-store.js';
import type { RevokeReason } from '../session-store.js';
import { auditEventOf } from '../rows.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { sqliteCode } from './rows.js';

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

const REVOKE = `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
  WHERE revoked_at IS NULL AND id IN (SELECT session_id FROM provider_sessions WHERE `;

export class SQLiteProviderSessions implements ProviderSessionStore {
  readonly #db: SQLiteDatabase;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #q;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#db = db;
    this.#revocations = revocations;
    this.#audit = audit;
    type Revoked = { id: string; user_id: string };
    this.#q = {
      insert: db.prepare<[string, string, string, string, string | null, string, number]>(
        `INSERT INTO provider_sessions (session_id, provider_id, issuer, subject, sid, sealed_tokens, token_version, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
      ),
      find: db.prepare<[string], ProviderSessionRow>('SELECT * FROM provider_sessions WHERE session_id = ?'),
      replace: db.prepare<[string, number, string, number]>(
        'UPDATE provider_sessions SET sealed_tokens = ?, token_version = token_version + 1, updated_at = ? WHERE session_id = ? AND token_version = ?',
      ),
      // One statement per shape of match, so each uses its index.
      revokeBySid: db.prepare<[number, string, string, string], Revoked>(`${REVOKE}issuer = ? AND sid = ?) RETURNING id, user_id`),
      revokeBySubject: db.prepare<[number, string, string, string], Revoked>(`${REVOKE}issuer = ? AND subject = ?) RETURNING id, user_id`),
      revokeBySidAndSubject: db.prepare<[number, string, string, string, string], Revoked>(
        `${REVOKE}issuer = ? AND sid = ? AND subject = ?) RETURNING id, user_id`,
      ),
    };
  }

  async saveProviderSession(r: NewProviderSession): Promise<void> {
    this.#db.run(() => {
      try {
        this.#q.insert.run(r.sessionId, r.providerId, r.issuer, r.subject, r.sid, r.sealedTokens, r.updatedAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GatehouseError('SESSION_NOT_FOUND', { cause: error });
        throw error;
      }
    });
  }

  async findProviderSession(sessionId: string): Promise<ProviderSessionRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.find.get(sessionId);
      return row === undefined ? null : toRecord(row);
    });
  }

  async replaceProviderTokens(sessionId: string, expectedVersion: number, sealedTokens: string, at: number): Promise<boolean> {
    return this.#db.run(() => this.#q.replace.run(sealedTokens, at, sessionId, expectedVersion).changes === 1);
  }

  async revokeProviderSessions(match: ProviderSessionMatch, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> {
    const { issuer, sid, subject } = match;
    if (sid === undefined && subject === undefined) return [];
    return this.#db.write(() => {
      const rows =
        sid !== undefined && subject !== undefined
          ? this.#q.revokeBySidAndSubject.all(at, reason, issuer, sid, subject)
          : sid !== undefined
            ? this.#q.revokeBySid.all(at, reason, issuer, sid)
            : this.#q.revokeBySubject.all(at, reason, issuer, subject as string);
      for (const row of rows) {
        this.#revocations.append('session', row.id, row.user_id, at);
        if (audit !== undefined) this.#audit.insert(auditEventOf(audit, { at, userId: row.user_id, sessionId: row.id }));
      }
      return rows.map((row) => row.id);
    });
  }
}
