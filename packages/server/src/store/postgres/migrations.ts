/**
 * Applies the PostgreSQL store's schema history (migration-list.ts) once per
 * version, under an advisory lock, and refuses a schema that is not current.
 */
import { GatehouseError } from '../../core/errors.js';
import { MIGRATIONS, type Migration } from './migration-list.js';
import type { Run } from './rows.js';

export { MIGRATIONS, type Migration } from './migration-list.js';

/**
 * First half of the advisory-lock key that serialises migrations (the second
 * is the schema's hash), so concurrent starts of many instances apply each
 * step once. An arbitrary constant ("GHMG").
 */
const MIGRATION_LOCK = 0x47484d47;

/** The highest migration version recorded in `schema`, or 0 when it has none. */
export async function schemaVersion(run: Run, schema: string): Promise<number> {
  const { rows } = await run<{ exists: boolean }>(
    `SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL AS exists`,
    [schema],
  );
  if (rows[0]?.exists !== true) return 0;
  const max = await run<{ v: number | null }>(
    `SELECT MAX(version)::int AS v FROM ${quoteIdentifier(schema)}.schema_migrations`,
  );
  return max.rows[0]?.v ?? 0;
}

/**
 * Brings `schema` (created if missing) up to the newest of `migrations` and
 * returns the versions it applied, in one transaction on the connection `run` uses. A
 * transaction-level advisory lock makes instances that start together wait
 * for each other instead of racing; DDL is transactional in PostgreSQL, so a
 * failing step leaves the schema as it was.
 *
 * Rejects with `STORE_UNAVAILABLE` when the schema was written by a newer
 * Gatehouse: running old code against a newer schema could corrupt it.
 */
export async function applyMigrations(
  run: Run,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration "${m.name}" must have version ${i + 1}.`);
  });
  const table = `${quoteIdentifier(schema)}.schema_migrations`;
  await run('BEGIN');
  try {
    await run('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [MIGRATION_LOCK, schema]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
    const found = await run('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await run(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    await run(`CREATE TABLE IF NOT EXISTS ${table} (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const current = await schemaVersion(run, schema);
    if (current > migrations.length) throw newerSchema(current, migrations.length);
    const applied: number[] = [];
    for (const m of migrations.slice(current)) {
      // Unqualified names in the migration land in `schema`, whatever the connection's search_path.
      await run(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
      await run(m.sql);
      await run(`INSERT INTO ${table} (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    await run('COMMIT');
    return applied;
  } catch (error) {
    await run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Rejects unless `schema` is at exactly the newest known version: what a
 * server started with `database.migrate: "manual"` checks instead of migrating.
 */
export async function requireCurrentSchema(run: Run, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const current = await schemaVersion(run, schema);
  if (current > migrations.length) throw newerSchema(current, migrations.length);
  if (current < migrations.length) {
    throw new GatehouseError('STORE_UNAVAILABLE', {
      message:
        `The database schema "${schema}" is at version ${current}, but this Gatehouse needs version ${migrations.length}. ` +
        'Run `gatehouse migrate` (database.migrate is "manual").',
    });
  }
}

function newerSchema(current: number, known: number): GatehouseError {
  return new GatehouseError('STORE_UNAVAILABLE', {
    message:
      `The database schema is at version ${current}, but this Gatehouse only knows up to version ${known}. ` +
      'It was written by a newer Gatehouse; upgrade Gatehouse instead of downgrading the database.',
  });
}

/** `"name"`, for the schema name, which configuration already restricts to `[a-z_][a-z0-9_]*`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
