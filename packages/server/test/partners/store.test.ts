import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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

describe('PostgreSQL partner change log under concurrent writers', () => {
  it('a reader that follows the log with its cursor while 40 revocations commit concurrently misses none', async () => {
    const schema = freshSchema();
    const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 8 });
    try {
      await store.migrate();
      const T0 = Date.parse('2026-01-01T00:00:00Z');
      const ids = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(24, '0'));
      // One key per partner: a change the cursor skipped would never be read again through a later change of the same partner.
      for (const [p, id] of ids.entries()) {
        await store.createPartner({ id: `p${p}`, name: `p${p}`, origins: ['https://a.test'], scopes: ['s'], createdAt: T0 }, [{ id, kind: 'secret', hash: `h${id}`, createdAt: T0 }]);
      }
      // The reader's view: key id → revoked, applied in log order as a registry would.
      const view = new Map<string, boolean>();
      let cursor = 0;
      const read = async () => {
        const changes = await store.listPartnerChanges(cursor);
        for (const partner of changes.partners) for (const key of partner.keys) view.set(key.id, key.revokedAt !== null);
        cursor = changes.seq;
      };
      await read();
      let writing = true;
      const reader = (async () => {
        while (writing) await read();
      })();
      await Promise.all(ids.map((id, i) => store.revokePartnerKey(id, T0 + i)));
      writing = false;
      await reader;
      await read();
      expect([...view.values()].filter(Boolean)).toHaveLength(40);
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});
