import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server tests use: `GATEHOUSE_TEST_DATABASE_URL`, or the
 * shared local one. Tests never skip when it is missing; they fail with
 * {@link requirePostgres}'s message.
 */
export const TEST_DATABASE_URL = process.env['GATEHOUSE_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

/** Schemas this helper creates are named `gh_test_<unix seconds>_<random>`. */
const PREFIX = 'gh_test_';
/** Schemas left behind by a crashed run are dropped by a later run once they are this old. */
const ABANDONED_AFTER_SECONDS = 6 * 3600;

/** A fresh, uniquely named schema in the test database, for one test or one run. */
export interface TestSchema {
  readonly url: string;
  /** Pass as `database.schema` (or the store's `schema` option); Gatehouse creates it on migrate. */
  readonly schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** A one-off connection to the test database for setup, inspection and cleanup. */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Fails with a clear message when the test PostgreSQL is unreachable; call
 * it in `beforeAll`. Also drops schemas abandoned by crashed runs long ago.
 */
export async function requirePostgres(): Promise<void> {
  let client: pg.Client;
  try {
    client = await adminClient();
  } catch (error) {
    throw new Error(
      `PostgreSQL is required for these tests and is not reachable at ${redact(TEST_DATABASE_URL)} ` +
        `(${(error as Error).message}). Start it (Debian: pg_ctlcluster <version> main start) or set GATEHOUSE_TEST_DATABASE_URL.`,
    );
  }
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gh\\_test\\_%'`);
    const cutoff = Math.floor(Date.now() / 1000) - ABANDONED_AFTER_SECONDS;
    for (const { nspname } of rows) {
      const created = Number(nspname.slice(PREFIX.length).split('_')[0]);
      if (Number.isFinite(created) && created < cutoff) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** Names a new schema (not yet created) and returns how to drop it afterwards. */
export function freshSchema(): TestSchema {
  const schema = `${PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
  return {
    url: TEST_DATABASE_URL,
    schema,
    async drop() {
      const client = await adminClient();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The server process id of `client`'s connection. */
export async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]?.pid ?? 0;
}

/** Resolves with the server process id of the first session that waits for a lock `holderPid` holds. */
export async function waitUntilBlockedBy(admin: pg.Client, holderPid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [holderPid]);
    if (rows[0] !== undefined) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no session started waiting for the lock');
}

/** Resolves once the server process `pid` has ended, and with it its transaction. */
export async function waitUntilGone(admin: pg.Client, pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (rows.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`server process ${pid} is still there`);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
