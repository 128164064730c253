/**
 * Store selection: the configuration names SQLite (the default) or
 * PostgreSQL, and this opens it. Each store is imported only when
 * configured, so the embedded setup never loads `pg` and a PostgreSQL
 * process never loads `better-sqlite3`.
 */
import type { GatehouseConfig } from '../config/resolve.js';
import type { Store } from './store.js';

export interface OpenConfiguredStoreOptions {
  /**
   * `migrate`: bring the schema up to date. `require-current`: refuse
   * (`STORE_UNAVAILABLE`) a schema that is not at this build's version, for
   * `database.migrate: "manual"`. The SQLite store always migrates on open.
   */
  readonly schema: 'migrate' | 'require-current';
  /** Told about pooled PostgreSQL connections that failed while idle. */
  readonly onIdleError?: (error: Error) => void;
}

/**
 * Opens the store `config.database` describes and prepares its schema.
 * Rejects with `STORE_UNAVAILABLE` when the database cannot be reached or its
 * schema is not usable; the store is closed again then.
 */
export async function openConfiguredStore(config: GatehouseConfig, options: OpenConfiguredStoreOptions): Promise<Store> {
  const { database } = config;
  if (database.kind === 'sqlite' || database.url === undefined) {
    const { openSQLiteStore } = await import('./sqlite/sqlite-store.js');
    return openSQLiteStore({ path: config.databasePath });
  }
  const { openPostgresStore } = await import('./postgres/open.js');
  const store = await openPostgresStore({
    url: database.url,
    schema: database.schema,
    poolSize: database.poolSize,
    timeoutMs: database.timeoutSeconds * 1000,
    ...(options.onIdleError === undefined ? {} : { onIdleError: options.onIdleError }),
  });
  try {
    if (options.schema === 'migrate') await store.migrate();
    else await store.requireCurrentSchema();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Where the store lives, for logs: the SQLite path, or PostgreSQL's host, database and schema without credentials. */
export function describeStore(config: GatehouseConfig): string {
  const { database } = config;
  if (database.kind === 'sqlite' || database.url === undefined) return config.databasePath;
  const url = new URL(database.url);
  return `postgres://${url.host}${url.pathname} (schema ${database.schema})`;
}
