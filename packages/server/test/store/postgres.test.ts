import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/open.js';
import { describeStoreContract } from './contract.js';
import { freshSchema, requirePostgres, type TestSchema } from '../support/postgres.js';

beforeAll(requirePostgres);

describeStoreContract('PostgreSQL', async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
  };
});
