/**
 * Single-use values on SQLite: a unique row each, until it expires.
 *
 * Group commit (group-commit.ts), as for refresh rotation: the consumes that
 * arrive in one turn of the event loop are inserted one after another inside
 * one IMMEDIATE transaction and answered only once it has committed. With
 * synchronous=FULL the commit's fsync is nearly all a consume costs (a CPU
 * profile of a signed or DPoP request put over 80% of it there), so requests
 * arriving together share it. Each insert is one statement, atomic on its
 * own, and sees the ones before it in the batch: a value consumed twice in
 * one batch is refused the second time, exactly as if the two came apart.
 */
import type { ConsumeOnceStore } from '../consume-once-store.js';
import type { SQLiteDatabase } from './database.js';
import { GroupCommit } from './group-commit.js';

export class SQLiteConsumedValues implements ConsumeOnceStore {
  readonly #db: SQLiteDatabase;
  readonly #q;
  readonly #group: GroupCommit<{ key: string; expiresAt: number; now: number }, boolean>;

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
    // One statement per consume, atomic on its own: a failed one undoes itself alone.
    this.#group = new GroupCommit(db, ({ key, expiresAt, now }) => this.#q.consume.run(key, expiresAt, now).changes === 1);
  }

  /** Consumes with the next group commit; answers once that commit is durable. */
  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#group.submit({ key, expiresAt, now });
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
