/**
 * The SQLite store's connection and how every operation uses it. better-sqlite3
 * is synchronous, so each operation runs to completion inside one call; the
 * transactions are still needed because the CLI (another process) may write to
 * the same file.
 */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import { toStoreError } from './rows.js';

/** The part of a better-sqlite3 statement the store uses; declared here so declaration output can name it. */
export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** One open database file, shared by the store's domain modules. */
export class SQLiteDatabase {
  readonly raw: Database.Database;
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(raw: Database.Database) {
    this.raw = raw;
    this.#tx = raw.transaction((fn: () => unknown) => fn());
  }

  /** Prepares a statement once, at construction: preparing per call costs more than most of these queries. */
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R> {
    return this.raw.prepare<P, R>(sql);
  }

  /** Runs `fn` in one IMMEDIATE transaction: every write here reads first or spans statements. */
  write<T>(fn: () => T): T {
    return this.run(() => this.#tx.immediate(fn) as T);
  }

  /** Runs `fn`, failing with `STORE_UNAVAILABLE` when the database is closed, locked or damaged. */
  run<T>(fn: () => T): T {
    if (!this.raw.open) throw new GatehouseError('STORE_UNAVAILABLE', { message: 'The SQLite store is closed.' });
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
