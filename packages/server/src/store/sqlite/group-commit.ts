/**
 * Group commit on SQLite. With synchronous=FULL a commit's fsync is most of
 * what a small write costs, so the writes that arrive in one turn of the event
 * loop are applied one after another inside one IMMEDIATE transaction and
 * answered only once it has committed. Each write fails alone (a statement, or
 * a savepoint the caller opens, rolls back by itself); a failure that makes
 * SQLite abandon the transaction, or a commit that does not happen, fails them all.
 */
import type Database from 'better-sqlite3';
import type { SQLiteDatabase } from './database.js';
import { toStoreError } from './rows.js';

interface Pending<I, O> {
  readonly input: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

type Settled<O> = { readonly ok: true; readonly output: O } | { readonly ok: false; readonly error: unknown };

export class GroupCommit<I, O> {
  readonly #db: SQLiteDatabase;
  readonly #apply: (input: I) => O;
  readonly #group: Database.Transaction<(batch: readonly Pending<I, O>[]) => Settled<O>[]>;
  #pending: Pending<I, O>[] = [];

  /** `apply` does one write; it runs inside the batch's transaction. */
  constructor(db: SQLiteDatabase, apply: (input: I) => O) {
    this.#db = db;
    this.#apply = apply;
    this.#group = db.raw.transaction((batch: readonly Pending<I, O>[]) => batch.map((p) => this.#settle(p.input)));
  }

  /** Applies `input` with the next group commit; answers once that commit is durable. */
  submit(input: I): Promise<O> {
    return new Promise((resolve, reject) => {
      // setImmediate: every request whose I/O completed in this turn of the event loop joins the batch.
      if (this.#pending.push({ input, resolve, reject }) === 1) setImmediate(() => this.#commit());
    });
  }

  /** Applies every pending write in one IMMEDIATE transaction (outcomes may depend on what is read, so the write lock comes first). */
  #commit(): void {
    const batch = this.#pending;
    this.#pending = [];
    let settled: Settled<O>[];
    try {
      settled = this.#db.run(() => this.#group.immediate(batch));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const s = settled[i];
      if (s?.ok === true) p.resolve(s.output);
      else p.reject(s?.error ?? new Error('Write lost from its batch.'));
    });
  }

  #settle(input: I): Settled<O> {
    try {
      return { ok: true, output: this.#apply(input) };
    } catch (error) {
      // Some errors (a full disk, an I/O error) make SQLite abandon the whole transaction: then nothing may go on.
      if (!this.#db.raw.inTransaction) throw error;
      return { ok: false, error: toStoreError(error) };
    }
  }
}
