/**
 * The public way to get a PostgreSQL store. It loads `pg` on first use, so
 * applications on the embedded SQLite store never load the driver.
 */
import type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';

export type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';

/**
 * Creates a {@link PostgresStore} with a connection pool for `options.url`.
 * Opens no connection yet: the first call (normally `migrate`) does, and
 * rejects with `GatehouseError('STORE_UNAVAILABLE')` when the database cannot
 * be reached.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: 'postgres://gatehouse@db.internal/gatehouse' });
 * await store.migrate();
 * const gatehouse = await createGatehouse({ config, store });
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { PostgresStore: Store } = await import('./postgres-store.js');
  return new Store(options);
}
