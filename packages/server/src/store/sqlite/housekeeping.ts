/** Purging what ended long ago from SQLite, in short batches. */
import type { HousekeepingStore } from '../store.js';
import type { SQLiteConsumedValues } from './consumed-values.js';
import type { SQLiteDatabase } from './database.js';

/** Sessions or revocation events one purge step deletes; ten times as many refresh tokens. */
const PURGE_BATCH = 200;

export class SQLiteHousekeeping implements HousekeepingStore {
  readonly #db: SQLiteDatabase;
  readonly #consumed: SQLiteConsumedValues;
  readonly #q;

  constructor(db: SQLiteDatabase, consumed: SQLiteConsumedValues) {
    this.#db = db;
    this.#consumed = consumed;
    // The last parameter of each is the batch size.
    this.#q = {
      tokens: db.prepare<[number, number, number, number]>(
        `DELETE FROM refresh_tokens WHERE rowid IN (
           SELECT t.rowid FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
           WHERE s.absolute_expires_at < ? OR s.idle_expires_at < ? OR s.revoked_at < ? LIMIT ?)`,
      ),
      sessions: db.prepare<[number, number, number, number]>(
        `DELETE FROM sessions WHERE rowid IN (
           SELECT rowid FROM sessions WHERE absolute_expires_at < ? OR idle_expires_at < ? OR revoked_at < ? LIMIT ?)`,
      ),
      revocations: db.prepare<[number, number]>(
        'DELETE FROM revocation_events WHERE seq IN (SELECT seq FROM revocation_events WHERE at < ? LIMIT ?)',
      ),
    };
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
        const changes = this.#db.write(() => step(size));
        total += changes;
        if (changes < size) return total;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const q = this.#q;
    await batches((size) => q.tokens.run(before, before, before, size).changes, PURGE_BATCH * 10);
    const sessions = await batches((size) => q.sessions.run(before, before, before, size).changes, PURGE_BATCH);
    await batches((size) => q.revocations.run(before, size).changes, PURGE_BATCH);
    await this.#consumed.purgeConsumed(before);
    return sessions;
  }
}
