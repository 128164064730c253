/** The audit log on SQLite. */
import type { AuditEvent, AuditFilter, AuditStore, StoredAuditEvent } from '../audit-store.js';
import type { SQLiteDatabase } from './database.js';
import { type AuditRow, toAudit } from './rows.js';

export class SQLiteAudit implements AuditStore {
  readonly #db: SQLiteDatabase;
  readonly #q;

  constructor(db: SQLiteDatabase) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[number, string, string | null, string | null, string | null, string | null, string | null]>(
        'INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      // One statement per filter shape so each can use its index.
      all: db.prepare<[number], AuditRow>('SELECT * FROM audit_events ORDER BY id DESC LIMIT ?'),
      byUser: db.prepare<[string, number], AuditRow>('SELECT * FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?'),
      byType: db.prepare<[string, number], AuditRow>('SELECT * FROM audit_events WHERE type = ? ORDER BY id DESC LIMIT ?'),
      byUserAndType: db.prepare<[string, string, number], AuditRow>(
        'SELECT * FROM audit_events WHERE user_id = ? AND type = ? ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#db.run(() => this.insert(event));
  }

  /** Appends one event; inside a transaction, as part of it. */
  insert(e: AuditEvent): void {
    const detail = e.detail === undefined ? null : JSON.stringify(e.detail);
    this.#q.insert.run(e.at, e.type, e.userId ?? null, e.sessionId ?? null, e.ip ?? null, e.userAgent ?? null, detail);
  }

  async listAudit(filter: AuditFilter = {}): Promise<StoredAuditEvent[]> {
    // SQLite reads a negative LIMIT as "no limit"; never let that through.
    const limit = Math.max(0, Math.trunc(filter.limit ?? 100));
    const { userId, type } = filter;
    return this.#db.run(() => {
      const q = this.#q;
      const rows =
        userId !== undefined && type !== undefined ? q.byUserAndType.all(userId, type, limit)
        : userId !== undefined ? q.byUser.all(userId, limit)
        : type !== undefined ? q.byType.all(type, limit)
        : q.all.all(limit);
      return rows.map(toAudit);
    });
  }
}
