/** The audit log on PostgreSQL. */
import type { AuditEvent, AuditFilter, AuditStore, StoredAuditEvent } from '../audit-store.js';
import type { PostgresConnection } from './connection.js';
import { type AuditRow, type Run, toAudit } from './rows.js';

export class PostgresAudit implements AuditStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.#db.one((run) => insertAudit(run, event));
  }

  async listAudit(filter: AuditFilter = {}): Promise<StoredAuditEvent[]> {
    const limit = Math.max(0, Math.trunc(filter.limit ?? 100));
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.userId !== undefined) where.push(`user_id = $${values.push(filter.userId)}`);
    if (filter.type !== undefined) where.push(`type = $${values.push(filter.type)}`);
    const sql = `SELECT * FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.push(limit)}`;
    return this.#db.one(async (run) => (await run<AuditRow>(sql, values)).rows.map(toAudit));
  }
}

/** Appends one audit event on the connection (and so in the transaction) `run` uses. */
export async function insertAudit(run: Run, e: AuditEvent): Promise<void> {
  await run(
    'INSERT INTO audit_events (at, type, user_id, session_id, ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [e.at, e.type, e.userId ?? null, e.sessionId ?? null, e.ip ?? null, e.userAgent ?? null, e.detail === undefined ? null : JSON.stringify(e.detail)],
  );
}
