/**
 * Revocation events on SQLite: appended by every operation that ends a session
 * or makes a user's tokens stale, inside that operation's transaction, and
 * read in order by every instance's revocation list.
 */
import type { RevocationEvent, RevocationStore } from '../revocation-store.js';
import type { RevokeReason } from '../session-store.js';
import type { SQLiteDatabase } from './database.js';
import { type RevocationRow, toRevocation } from './rows.js';

export class SQLiteRevocations implements RevocationStore {
  readonly #db: SQLiteDatabase;
  readonly #q;

  constructor(db: SQLiteDatabase) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, string | null, string, number]>(
        'INSERT INTO revocation_events (kind, session_id, user_id, at) VALUES (?, ?, ?, ?)',
      ),
      insertUser: db.prepare<[string, number, number]>(
        `INSERT INTO revocation_events (kind, session_id, user_id, at, user_version) VALUES ('user', NULL, ?, ?, ?)`,
      ),
      list: db.prepare<[number, number], RevocationRow>('SELECT * FROM revocation_events WHERE seq > ? AND at >= ? ORDER BY seq'),
      revokeUserSessions: db.prepare<[number, string, string], { id: string }>(
        'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id',
      ),
    };
  }

  async listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]> {
    return this.#db.run(() => this.#q.list.all(afterSeq, notBefore).map(toRevocation));
  }

  /** Appends one session event. Call inside the transaction that ended the session. */
  append(kind: 'session', sessionId: string, userId: string, at: number): void {
    this.#q.insert.run(kind, sessionId, userId, at);
  }

  /** Appends a user event: the user is now at `version`. Call inside the transaction that changed the user. */
  appendUser(userId: string, version: number, at: number): void {
    this.#q.insertUser.run(userId, at, version);
  }

  /** Revokes every not-yet-revoked session of a user, one event each. Call inside a transaction. */
  revokeAllOfUser(userId: string, reason: RevokeReason, at: number): string[] {
    const rows = this.#q.revokeUserSessions.all(at, reason, userId);
    for (const row of rows) this.append('session', row.id, userId, at);
    return rows.map((row) => row.id);
  }
}
