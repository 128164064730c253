/**
 * Single-use values on SQLite: a unique row each, until it expires.
 *
 * Group commit, as for refresh rotation (rotation.ts): the consumes that
 * arrive in one turn of the event loop are inserted one after another inside
 * one IMMEDIATE transaction and answered only once it has committed. With
 * synchronous=FULL the commit's fsync is nearly all a consume costs (a CPU
 * profile of a signed or DPoP request put over 80% of it there), so requests
 * arriving together share it. Each insert is one statement, atomic on its
 * own, and sees the ones before it in the batch: a value consumed twice in
 * one batch is refused the second time, exactly as if the two came apart.
 */
import type Database from 'better-sqlite3';
import type { ConsumeOnceStore } from '../consume-once-store.js';
import type { SQLiteDatabase } from './database.js';
import { toStoreError } from './rows.js';

/** A consume waiting for the next group commit. */
interface Pending {
  readonly key: string;
  readonly expiresAt: number;
  readonly now: number;
  readonly resolve: (consumed: boolean) => void;
  readonly reject: (error: unknown) => void;
}

type Settled = { readonly consumed: boolean } | { readonly error: unknown };

export class SQLiteConsumedValues implements ConsumeOnceStore {
  readonly #db: SQLiteDatabase;
  readonly #q;
  readonly #group: Database.Transaction<(batch: readonly Pending[]) => Settled[]>;
  #pending: Pending[] = [];

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
    this.#group = db.raw.transaction((batch: readonly Pending[]) => batch.map((p) => this.#settle(p)));
  }

  /** Consumes with the next group commit; answers once that commit is durable. */
  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      // setImmediate: every request whose I/O completed in this turn of the event loop joins the batch.
      if (this.#pending.push({ key, expiresAt, now, resolve, reject }) === 1) setImmediate(() => this.#commit());
    });
  }

  /** Applies every pending consume in one IMMEDIATE transaction; if it does not commit, every one of them fails. */
  #commit(): void {
    const batch = this.#pending;
    this.#pending = [];
    let settled: Settled[];
    try {
      settled = this.#db.run(() => this.#group.immediate(batch));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const s = settled[i];
      if (s !== undefined && 'consumed' in s) p.resolve(s.consumed);
      else p.reject(s?.error ?? new Error('Consume lost from its batch.'));
    });
  }

  /** One consume of a batch: a failed statement undoes itself alone (SQLite rolls back just that statement). */
  #settle(p: Pending): Settled {
    try {
      return { consumed: this.#q.consume.run(p.key, p.expiresAt, p.now).changes === 1 };
    } catch (error) {
      // Some errors (a full disk, an I/O error) make SQLite abandon the whole transaction: then nothing may go on.
      if (!this.#db.raw.inTransaction) throw error;
      return { error: toStoreError(error) };
    }
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
