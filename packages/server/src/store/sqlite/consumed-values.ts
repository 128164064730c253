/** Single-use values on SQLite: a unique row each, until it expires. */
import type { ConsumeOnceStore } from '../consume-once-store.js';
import type { SQLiteDatabase } from './database.js';

export class SQLiteConsumedValues implements ConsumeOnceStore {
  readonly #db: SQLiteDatabase;
  readonly #q;

  constructor(db: SQLiteDatabase) {
    this.#db = db;
    this.#q = {
      // Inserts, or takes over a record that has expired; a live record changes nothing (0 rows).
      consume: db.prepare<[string, number, number]>(
        `INSERT INTO consumed_values (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE consumed_values.expires_at <= ?`,
      ),
      purge: db.prepare<[number, number]>(
        'DELETE FROM consumed_values WHERE key IN (SELECT key FROM consumed_values WHERE expires_at < ? LIMIT ?)',
      ),
    };
  }

  async consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#db.run(() => this.#q.consume.run(key, expiresAt, now).changes === 1);
  }

  /** In batches, each its own short write, with the event loop free in between (see housekeeping.ts). */
  async purgeConsumed(before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const changes = this.#db.run(() => this.#q.purge.run(before, 500).changes);
      total += changes;
      if (changes < 500) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
