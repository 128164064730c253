/**
 * The PostgreSQL store's connection pool and how every operation uses it:
 * one pooled connection per call, inside BEGIN/COMMIT when asked, every wait
 * bounded, and driver failures mapped so that an unreachable or hung database
 * fails closed with `STORE_UNAVAILABLE` instead of hanging requests.
 */
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import { applyMigrations, requireCurrentSchema } from './migrations.js';
import { type Run, isRetryable, toStoreError } from './rows.js';

/** How to reach the database; see `PostgresStoreOptions` for what each means. */
export interface PostgresConnectionOptions {
  readonly url: string;
  readonly schema?: string;
  readonly poolSize?: number;
  readonly timeoutMs?: number;
  readonly onIdleError?: (error: Error) => void;
}

/** Thrown inside a transaction to roll it back and still answer `value`. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/** How often a transaction that lost a deadlock or serialization race is tried again. */
const ATTEMPTS = 3;
const INT8_OID = 20;

/**
 * A `pg` pool plus the two ways the store's operations use it: {@link one}
 * statement (or several, without a transaction) and {@link transaction}.
 */
export class PostgresConnection {
  readonly #pool: pg.Pool;
  /** How to connect, without the per-statement timeouts (what migrations use). */
  readonly #connection: pg.ClientConfig;
  readonly schema: string;
  #closed = false;

  constructor(options: PostgresConnectionOptions) {
    const timeoutMs = Math.max(100, Math.trunc(options.timeoutMs ?? 3000));
    this.schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) throw new TypeError('schema must match [a-z_][a-z0-9_]{0,62}');
    // Per pool, not pg's global parsers: the application embedding Gatehouse may use pg too.
    // BIGINT columns hold milliseconds and identities, far below 2^53.
    const types = new pg.TypeOverrides();
    types.setTypeParser(INT8_OID, Number);
    // pg lets the URL's own `options` parameter replace ours, which would lose the search_path: merge them instead.
    const url = new URL(options.url);
    const urlOptions = url.searchParams.get('options');
    url.searchParams.delete('options');
    this.#connection = {
      connectionString: url.toString(),
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: 'gatehouse',
      // The schema name is restricted above, so it needs no escaping here.
      options: `${urlOptions === null ? '' : `${urlOptions} `}-c search_path=${this.schema}`,
      types,
    };
    this.#pool = new pg.Pool({
      ...this.#connection,
      max: Math.max(1, Math.trunc(options.poolSize ?? 10)),
      statement_timeout: timeoutMs,
      lock_timeout: timeoutMs,
      // The server usually cancels first (and the connection survives); this catches a database that went silent.
      query_timeout: timeoutMs + 500,
      idle_in_transaction_session_timeout: timeoutMs * 2,
      idleTimeoutMillis: 30_000,
    });
    const onIdleError = options.onIdleError ?? (() => undefined);
    // Without these listeners a connection that dies (database restart, network cut) crashes the process.
    this.#pool.on('error', onIdleError);
    // A checked-out connection's failure also reaches its query, and the pool re-emits an idle one's: one report each.
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * Runs on a connection of its own without statement or lock timeouts: a
   * migration may take long, and an instance starting meanwhile must wait
   * for the advisory lock instead of giving up. Only connecting is bounded.
   */
  async migrate(): Promise<void> {
    if (this.#closed) throw closedError();
    const client = new pg.Client(this.#connection);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new GatehouseError('STORE_UNAVAILABLE', { cause: error });
    }
    try {
      await applyMigrations((sql, values) => client.query(sql, values === undefined ? undefined : [...values]), this.schema);
    } catch (error) {
      throw error instanceof pg.DatabaseError || error instanceof GatehouseError ? toStoreError(error) : new GatehouseError('STORE_UNAVAILABLE', { cause: error });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Rejects with `STORE_UNAVAILABLE` unless the schema is exactly at the version this build needs. */
  async requireCurrentSchema(): Promise<void> {
    await this.one((run) => requireCurrentSchema(run, this.schema));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** Runs `fn` on one pooled connection, without a transaction. */
  one<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    return this.#use(fn, { transaction: false });
  }

  /** Runs `fn` inside BEGIN/COMMIT; throw a {@link Rollback} to undo everything and still answer. */
  transaction<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    return this.#use(fn, { transaction: true });
  }

  /**
   * Runs `fn` on one pooled connection, inside BEGIN/COMMIT when asked, and
   * maps failures: anything the driver throws that is not an answer from
   * PostgreSQL (refused, reset, timed out) means the connection is gone, so it
   * is discarded, and the caller gets `STORE_UNAVAILABLE`. A transaction that
   * loses a deadlock or serialization race ran to nothing and is retried.
   */
  async #use<T>(fn: (run: Run) => Promise<T>, options: { readonly transaction: boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw closedError();
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw new GatehouseError('STORE_UNAVAILABLE', { cause: error });
      }
      let broken: Error | undefined;
      const run: Run = async <R extends pg.QueryResultRow>(sql: string, values?: readonly unknown[], name?: string) => {
        try {
          return await client.query<R>({ text: sql, ...(values === undefined ? {} : { values: [...values] }), ...(name === undefined ? {} : { name }) });
        } catch (error) {
          if (!(error instanceof pg.DatabaseError)) broken ??= error instanceof Error ? error : new Error(String(error));
          throw error;
        }
      };
      try {
        if (options.transaction) await run('BEGIN');
        const result = await fn(run);
        if (options.transaction) await run('COMMIT');
        return result;
      } catch (error) {
        if (options.transaction && broken === undefined) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken ??= rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
          });
        }
        if (error instanceof Rollback) return error.value as T;
        if (broken === undefined && isRetryable(error) && attempt < ATTEMPTS) continue;
        // Once the connection broke, whatever surfaced (a ROLLBACK failure, a driver error) means the same.
        if (broken !== undefined && !(error instanceof GatehouseError)) throw new GatehouseError('STORE_UNAVAILABLE', { cause: broken });
        throw toStoreError(error);
      } finally {
        // A broken connection is destroyed rather than returned to the pool.
        client.release(broken);
      }
    }
  }
}

function closedError(): GatehouseError {
  return new GatehouseError('STORE_UNAVAILABLE', { message: 'The PostgreSQL store is closed.' });
}
