import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import { freshSchema, requirePostgres } from '../support/postgres.js';
import { describePartnerStoreContract } from './store-contract.js';

beforeAll(requirePostgres);

describePartnerStoreContract('SQLite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-partners-'));
  const store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
  return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
});

describePartnerStoreContract('PostgreSQL', async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 2 });
  return { store, cleanup: async () => { await store.close(); await schema.drop(); } };
});
