import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse } from '../../src/gatehouse.js';
import { applyMigrations, MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/open.js';
import type { Run } from '../../src/store/postgres/rows.js';
import type { RotationOutcome, Store } from '../../src/store/store.js';
import { describeAuditContract } from './audit-contract.js';
import { describeStoreContract } from './contract.js';
import { describeExternalIdentityContract } from './contract-external.js';
import { describeOAuthClientContract } from './oauth-client-contract.js';
import { describeRotationContract } from './rotation-contract.js';
import { adminClient, backendPid, freshSchema, requirePostgres, waitUntilBlockedBy, waitUntilGone, type TestSchema } from '../support/postgres.js';
import { startTCPProxy, type TCPProxy } from '../support/tcp-proxy.js';

beforeAll(requirePostgres);

const openSchemaStore = async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
  };
};
describeStoreContract('PostgreSQL', openSchemaStore);
describeExternalIdentityContract('PostgreSQL', openSchemaStore);
describeOAuthClientContract('PostgreSQL', openSchemaStore);

describeRotationContract('PostgreSQL', async () => {
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

describeAuditContract('PostgreSQL', async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
    refuseAuditWrites: async () => {
      const admin = await adminClient();
      const s = `"${schema.schema}"`;
      await admin.query(`CREATE FUNCTION ${s}.refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`);
      await admin.query(`CREATE TRIGGER refuse_audit BEFORE INSERT ON ${s}.audit_events FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_audit()`);
      return async () => {
        await admin.query(`DROP TRIGGER refuse_audit ON ${s}.audit_events`);
        await admin.query(`DROP FUNCTION ${s}.refuse_audit()`);
        await admin.end();
      };
    },
  };
});

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const GRACE = 10_000;
const IDLE = 30 * MIN;
const ACTOR = { ip: null, userAgent: null };

describe('PostgresStore specifics', () => {
  let schema: TestSchema;
  let admin: pg.Client;
  const opened: Store[] = [];
  /** A store on this test's schema; each is its own pool, like another Gatehouse instance. */
  const open = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
    const store = await openPostgresStore({ url: schema.url, schema: schema.schema, poolSize: 2, ...options });
    opened.push(store);
    return store;
  };
  const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as { code?: unknown }).code);
  const rows = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
    (await admin.query<R>(sql.replaceAll('$schema', `"${schema.schema}"`), values)).rows;
  const seed = async (store: Store, over: { idleExpiresAt?: number; absoluteExpiresAt?: number } = {}) => {
    const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h', roles: [], createdAt: T0 });
    const hash = `rt-${randomUUID()}`;
    const session = await store.createSession(
      { id: randomUUID(), userId: user.id, createdAt: T0, idleExpiresAt: over.idleExpiresAt ?? T0 + IDLE, absoluteExpiresAt: over.absoluteExpiresAt ?? T0 + 86_400_000, userAgent: null, ip: null },
      hash,
    );
    return { user, session, hash };
  };

  beforeEach(async () => {
    schema = freshSchema();
    admin = await adminClient();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await admin.end();
    await schema.drop();
  });

  describe('refresh rotation under concurrency', () => {
    /** 20 instances (separate pools, so separate connections) present the same token at once. */
    const race = async (stores: readonly Store[], presentedHash: string, now: number) => {
      const successors = stores.map(() => `succ-${randomUUID()}`);
      const replacements = stores.map(() => `repl-${randomUUID()}`);
      const outcomes = await Promise.all(
        stores.map((store, i) =>
          store.rotateRefreshToken({
            presentedHash, successorHash: successors[i] ?? '', replacementHash: replacements[i] ?? '', now, graceMs: GRACE, idleTimeoutMs: IDLE, actor: ACTOR,
          }),
        ),
      );
      const winners = outcomes.flatMap((o, i) => (o.status === 'rotated' ? [o.successor === 'derived' ? successors[i] : replacements[i]] : []));
      return { outcomes, winners };
    };
    const liveTokens = (sessionId: string) =>
      rows<{ hash: string; generation: number }>('SELECT hash, generation FROM $schema.refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL', [sessionId]);

    it('20 parallel rotations of one token through 20 pools leave exactly one live successor; the rest get grace', async () => {
      const first = await open();
      await first.migrate();
      const stores = [first, ...(await Promise.all(Array.from({ length: 19 }, () => open({ poolSize: 1 }))))];
      const { session, hash } = await seed(first);

      const round1 = await race(stores, hash, T0 + MIN);
      expect(round1.winners).toHaveLength(1);
      const winner = round1.winners[0] ?? '';
      const losers = round1.outcomes.filter((o) => o.status !== 'rotated');
      expect(losers).toHaveLength(19);
      for (const o of losers) expect(o).toMatchObject({ status: 'grace', path: ['derived'], liveHash: winner });
      expect(await liveTokens(session.id)).toEqual([{ hash: winner, generation: 1 }]);
      expect(await rows('SELECT 1 FROM $schema.refresh_tokens WHERE session_id = $1', [session.id])).toHaveLength(2);

      // Again with the successor, later: still one winner, and the chain stays linear.
      const round2 = await race(stores, winner, T0 + 2 * MIN);
      expect(round2.winners).toHaveLength(1);
      expect(await liveTokens(session.id)).toEqual([{ hash: round2.winners[0], generation: 2 }]);
      expect((await first.findSession(session.id))?.revokedAt).toBeNull();
    });

    it('keeps the grace window and the replacement rule when 20 present one token at once: one replacement, then one reuse', async () => {
      const first = await open();
      await first.migrate();
      const stores = [first, ...(await Promise.all(Array.from({ length: 19 }, () => open({ poolSize: 1 }))))];
      const { session, hash } = await seed(first);
      const lost = await race(stores.slice(0, 1), hash, T0 + MIN);

      const within = await race(stores, hash, T0 + MIN + GRACE);
      expect(within.outcomes.every((o) => o.status === 'grace')).toBe(true);

      // The successor was never used (a lost response): the 20 retries get one replacement between them.
      const retried = await race(stores, hash, T0 + MIN + GRACE + 1);
      expect(retried.winners).toHaveLength(1);
      const replacement = retried.winners[0] ?? '';
      for (const o of retried.outcomes.filter((o) => o.status !== 'rotated')) expect(o).toMatchObject({ status: 'grace', path: ['replacement'], liveHash: replacement });
      expect(await liveTokens(session.id)).toEqual([{ hash: replacement, generation: 1 }]);
      expect(await rows('SELECT superseded_at::float8 AS superseded_at FROM $schema.refresh_tokens WHERE hash = $1', [lost.winners[0]])).toEqual([{ superseded_at: T0 + MIN + GRACE + 1 }]);

      // Once the replacement has been used, the chain has moved on by use: the old token is theft.
      await race(stores.slice(0, 1), replacement, T0 + 2 * MIN);
      const after = await race(stores, hash, T0 + 3 * MIN);
      const statuses = after.outcomes.map((o: RotationOutcome) => (o.status === 'invalid' ? `invalid/${o.reason}` : o.status));
      // The first to get the lock detects the theft; everyone queued behind it finds the session already revoked.
      expect(statuses.filter((s) => s === 'reused')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'invalid/revoked')).toHaveLength(19);
      expect(await first.findSession(session.id)).toMatchObject({ revokedAt: T0 + 3 * MIN, revokeReason: 'refresh_token_reused' });
      expect(await first.listRevocations(0, 0)).toHaveLength(1);
    });
  });

  describe('a sign-in racing a change of the user', () => {
    const signIn = (store: Store, userId: string) =>
      store.openSession({
        session: { id: randomUUID(), userId, createdAt: T0 + 1, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + 86_400_000, userAgent: null, ip: null },
        refreshTokenHash: `rt-${randomUUID()}`,
        passwordHash: 'h',
        audit: { type: 'login_succeeded', ...ACTOR },
      });

    it('waits for a password change that has not committed yet, then sees it and opens nothing', async () => {
      const store = await open();
      await store.migrate();
      const { user } = await seed(store);
      const changer = await adminClient();
      try {
        await changer.query('BEGIN');
        await changer.query(`UPDATE "${schema.schema}".users SET password_hash = 'h2' WHERE id = $1`, [user.id]);
        const pending = signIn(store, user.id);
        await waitUntilBlockedBy(admin, await backendPid(changer));
        await changer.query('COMMIT');
        expect(await pending).toEqual({ status: 'refused', reason: 'password_changed' });
      } finally {
        await changer.end();
      }
      expect(await rows('SELECT COUNT(*)::int AS n FROM $schema.sessions')).toEqual([{ n: 1 }]); // seed's own
      expect(await store.listAudit()).toEqual([]);
    });
  });

  describe('migrations', () => {
    it('five instances starting at once apply each migration exactly once, into their own schema', async () => {
      const stores = await Promise.all(Array.from({ length: 5 }, () => open({ poolSize: 1 })));
      await Promise.all(stores.map((s) => s.migrate()));
      expect(await rows('SELECT version, name FROM $schema.schema_migrations ORDER BY version')).toEqual(
        MIGRATIONS.map(({ version, name }) => ({ version, name })),
      );
      const tables = await rows<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema.schema]);
      expect(tables.map((t) => t.table_name)).toEqual([
        'audit_events', 'consumed_values', 'identity_links', 'oauth_clients', 'oauth_grants', 'partner_changes', 'partner_keys', 'partners', 'provider_sessions', 'refresh_tokens',
        'revocation_events', 'schema_migrations', 'sessions', 'signing_keys', 'users',
      ]);
      await stores[0]?.migrate();
      expect(await rows('SELECT 1 FROM $schema.schema_migrations')).toHaveLength(MIGRATIONS.length);
    });

    it('an instance starting while another migrates waits for it, longer than the statement timeout, instead of failing', async () => {
      const holder = await adminClient();
      try {
        // The lock a migrating instance holds (see migrations.ts).
        await holder.query('SELECT pg_advisory_lock($1::int, hashtext($2::text))', [0x47484d47, schema.schema]);
        const store = await open({ timeoutMs: 200 });
        const migrating = store.migrate();
        await waitUntilBlockedBy(admin, await backendPid(holder));
        await new Promise((resolve) => setTimeout(resolve, 600));
        await holder.query('SELECT pg_advisory_unlock($1::int, hashtext($2::text))', [0x47484d47, schema.schema]);
        await migrating;
        await store.requireCurrentSchema();
      } finally {
        await holder.end();
      }
    });

    it('rolls a failing migration back whole, then applies a good one over existing data', async () => {
      const store = await open();
      await store.migrate();
      await seed(store);
      await admin.query(`SET search_path TO "${schema.schema}"`);
      const run: Run = (sql, values) => admin.query(sql, values === undefined ? undefined : [...values]);
      const next = MIGRATIONS.length + 1;
      const broken = [...MIGRATIONS, { version: next, name: 'broken', sql: 'CREATE TABLE extra (x INTEGER); SELECT * FROM missing;' }];
      await expect(applyMigrations(run, schema.schema, broken)).rejects.toThrow();
      expect(await rows('SELECT MAX(version) AS v FROM $schema.schema_migrations')).toEqual([{ v: MIGRATIONS.length }]);
      expect(await rows(`SELECT to_regclass('$schema.extra') AS t`)).toEqual([{ t: null }]);
      const good = [...MIGRATIONS, { version: next, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER);' }];
      expect(await applyMigrations(run, schema.schema, good)).toEqual([next]);
      expect(await rows('SELECT COUNT(*)::int AS n FROM $schema.users')).toEqual([{ n: 1 }]);
    });

    it('upgrades a schema from before user versions: its users start at version 0, its user events read as version 0', async () => {
      const run: Run = (sql, values) => admin.query(sql, values === undefined ? undefined : [...values]);
      const before = MIGRATIONS.findIndex((m) => m.name === 'user-versions');
      await applyMigrations(run, schema.schema, MIGRATIONS.slice(0, before));
      await rows(
        `INSERT INTO $schema.users (id, username, password_hash, roles, created_at, updated_at, tokens_valid_after) VALUES ('u1', 'alice', 'h', '{admin}', $1, $1, $2)`,
        [T0, T0 + 5],
      );
      await rows(`INSERT INTO $schema.revocation_events (kind, session_id, user_id, at) VALUES ('user', NULL, 'u1', $1)`, [T0 + 5]);
      const store = await open();
      await store.migrate();
      expect(await store.findUserById('u1')).toMatchObject({ roles: ['admin'], version: 0 });
      expect(await store.listRevocations(0, 0)).toMatchObject([{ kind: 'user', userId: 'u1', version: 0, at: T0 + 5 }]);
      expect((await store.changeRoles('u1', () => [], T0 + 6)).user.version).toBe(1);
    });

    it('refuses a schema written by a newer Gatehouse, and one that is not migrated yet when migrations are manual', async () => {
      const store = await open();
      expect(await code(store.requireCurrentSchema())).toBe('STORE_UNAVAILABLE');
      await store.migrate();
      await store.requireCurrentSchema();
      await admin.query(`INSERT INTO "${schema.schema}".schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`);
      const error = await store.migrate().catch((e: unknown) => e);
      expect(isGatehouseError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toMatch(/version 999.*newer Gatehouse/);
      expect(await code(store.requireCurrentSchema())).toBe('STORE_UNAVAILABLE');
    });
  });

  it('keeps its schema when the URL carries its own connection options', async () => {
    const url = new URL(schema.url);
    url.searchParams.set('options', '-c application_name=from-url');
    const store = await open({ url: url.toString() });
    await store.migrate();
    await seed(store);
    expect(await rows('SELECT COUNT(*)::int AS n FROM $schema.users')).toEqual([{ n: 1 }]);
  });

  describe('revocation feed', () => {
    it('a reader following the seq cursor misses no event while many instances revoke at once', async () => {
      const writers = await Promise.all(Array.from({ length: 4 }, () => open({ poolSize: 3 })));
      await writers[0]?.migrate();
      const sessions = await Promise.all(Array.from({ length: 40 }, () => seed(writers[0] as Store)));
      const reader = await open({ poolSize: 1 });
      const seen: number[] = [];
      let cursor = 0;
      const poll = async () => {
        for (const e of await reader.listRevocations(cursor, 0)) {
          seen.push(e.seq);
          cursor = e.seq;
        }
      };
      let writing = true;
      const polling = (async () => {
        while (writing) await poll();
      })();
      await Promise.all(sessions.map((s, i) => writers[i % writers.length]?.revokeSession(s.session.id, 'logout', T0 + i)));
      writing = false;
      await polling;
      await poll();
      const all = (await reader.listRevocations(0, 0)).map((e) => e.seq);
      expect(all).toHaveLength(40);
      expect(seen).toEqual(all);
    });
  });

  describe('purgeExpired', () => {
    it('deletes in batches until nothing is left, and two instances purging at once delete each session once', async () => {
      const a = await open({ purgeBatchSize: 3 });
      const b = await open({ purgeBatchSize: 3 });
      await a.migrate();
      const before = T0 + 60 * MIN;
      const expired = await Promise.all(Array.from({ length: 20 }, () => seed(a, { idleExpiresAt: before - 1 })));
      // Two rotations each: 60 refresh tokens, two batches' worth of tokens.
      for (const [step, now] of [[1, T0 + MIN], [2, T0 + 2 * MIN]] as const) {
        for (const e of expired) {
          const next = `${e.hash}-${step}`;
          await a.rotateRefreshToken({ presentedHash: step === 1 ? e.hash : `${e.hash}-1`, successorHash: next, replacementHash: `${next}-r`, now, graceMs: GRACE, idleTimeoutMs: IDLE, actor: ACTOR });
        }
      }
      const live = await seed(a, { idleExpiresAt: before + 1 });
      const [fromA, fromB] = await Promise.all([a.purgeExpired(before), b.purgeExpired(before)]);
      expect((fromA ?? 0) + (fromB ?? 0)).toBe(20);
      for (const e of expired) expect(await a.findSessionByRefreshTokenHash(e.hash)).toBeNull();
      expect(await a.findSession(live.session.id)).not.toBeNull();
      expect(await rows('SELECT 1 FROM $schema.refresh_tokens')).toHaveLength(1);
      expect(await a.purgeExpired(before)).toBe(0);
    });
  });

  describe('when the database cannot be reached', () => {
    let proxy: TCPProxy;
    const viaProxy = () => {
      const url = new URL(schema.url);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      return url.toString();
    };
    beforeEach(async () => {
      const target = new URL(schema.url);
      proxy = await startTCPProxy({ host: target.hostname, port: Number(target.port || 5432) });
    });
    afterEach(async () => {
      await proxy.close();
    });

    it('rejects with STORE_UNAVAILABLE when nothing listens', async () => {
      await proxy.close();
      const store = await open({ url: viaProxy() });
      const error = await store.migrate().catch((e: unknown) => e);
      expect(isGatehouseError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toBe('The session store is unavailable.');
      expect((error as Error).cause).toBeInstanceOf(Error);
    });

    it('rejects with STORE_UNAVAILABLE within the timeout when the database stops answering, and recovers', async () => {
      const direct = await open();
      await direct.migrate();
      const { user } = await seed(direct);
      const store = await open({ url: viaProxy(), timeoutMs: 300, poolSize: 2 });
      expect(await store.findUserById(user.id)).toMatchObject({ id: user.id });

      proxy.setMode('hang');
      // An open connection that went silent (read timeout), then new connections that never complete (connect timeout).
      expect(await code(store.findUserById(user.id))).toBe('STORE_UNAVAILABLE');
      expect(await code(store.findUserById(user.id))).toBe('STORE_UNAVAILABLE');
      expect(await code(Promise.all([store.findUserById(user.id), store.findUserById(user.id), store.findUserById(user.id)]))).toBe('STORE_UNAVAILABLE');

      proxy.setMode('forward');
      expect(await store.findUserById(user.id)).toMatchObject({ id: user.id });
    });

    it('a transaction cut off half-way leaves nothing written', async () => {
      const direct = await open();
      await direct.migrate();
      const { user, session } = await seed(direct);
      const store = await open({ url: viaProxy(), poolSize: 1 });
      await store.findUserById(user.id);

      // Hold the revocation table so disableUser stops after it has updated the user and revoked the session.
      const holder = await adminClient();
      const holderPid = await backendPid(holder);
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${schema.schema}".revocation_events IN EXCLUSIVE MODE`);
      const pending = store.disableUser(user.id, T0 + 5).catch((e: unknown) => e);
      const cutPid = await waitUntilBlockedBy(admin, holderPid);
      proxy.setMode('reset');
      const error = await pending;
      await holder.query('ROLLBACK');
      await holder.end();

      expect(isGatehouseError(error, 'STORE_UNAVAILABLE')).toBe(true);
      proxy.setMode('forward');
      // PostgreSQL rolls the transaction back when it finds its connection gone.
      await waitUntilGone(admin, cutPid);
      expect(await direct.findUserById(user.id)).toMatchObject({ disabled: false, version: 0 });
      expect(await direct.findSession(session.id)).toMatchObject({ revokedAt: null });
      expect(await direct.listRevocations(0, 0)).toEqual([]);
      expect(await store.disableUser(user.id, T0 + 6)).toEqual({ version: 1, revokedSessionIds: [session.id] });
    });
  });
});

describe('PostgreSQL chosen by configuration', () => {
  const SECRET = 'pg-config-test-secret-7Hq2Lm9Zx4Vb1Nc8Rt3Yw6';
  let schema: TestSchema;
  let cwd: string;
  beforeEach(async () => {
    schema = freshSchema();
    cwd = await mkdtemp(join(tmpdir(), 'gatehouse-pg-cli-'));
  });
  afterEach(async () => {
    await schema.drop();
    await rm(cwd, { recursive: true, force: true });
  });
  const env = (extra: Record<string, string> = {}) => ({
    GATEHOUSE_DATABASE_URL: schema.url,
    GATEHOUSE_DATABASE_SCHEMA: schema.schema,
    GATEHOUSE_LOG_LEVEL: 'silent',
    ...extra,
  });
  const cli = async (argv: string[], vars: Record<string, string>, stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      readStdin: async () => stdin,
      env: vars,
      cwd,
      stopSignal: new Promise<string>(() => undefined),
    });
    return { code, stdout, stderr };
  };
  const tables = async () => {
    const admin = await adminClient();
    try {
      return (await admin.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1', [schema.schema])).rowCount;
    } finally {
      await admin.end();
    }
  };

  it('with database.migrate "manual", a server refuses an unmigrated schema until `gatehouse migrate` (which needs no secret) has run', async () => {
    const manual = loadConfig({ env: env({ GATEHOUSE_DATABASE_MIGRATE: 'manual', GATEHOUSE_SECRET: SECRET }), cwd });
    const refused = await createGatehouse({ config: manual, logger: createLogger('silent') }).catch((e: unknown) => e);
    expect(isGatehouseError(refused, 'STORE_UNAVAILABLE')).toBe(true);
    expect((refused as Error).message).toContain('Run `gatehouse migrate`');
    expect(await tables()).toBe(0);

    expect(await cli(['migrate'], env())).toEqual({ code: 0, stdout: 'Schema is up to date.\n', stderr: '' });
    expect(await cli(['migrate', '--json'], env())).toMatchObject({ code: 0, stdout: '{"migrated":true}\n' });

    const gatehouse = await createGatehouse({ config: manual, logger: createLogger('silent') });
    try {
      const added = await cli(['user', 'add', 'dora', '--password-stdin'], env({ GATEHOUSE_SECRET: SECRET }), 'a long enough passphrase\n');
      expect(added.code, added.stderr).toBe(0);
      expect(await gatehouse.store.findUserByUsername('dora')).toMatchObject({ username: 'dora' });
    } finally {
      await gatehouse.close();
    }
  });

  it('by default a server migrates its schema on start', async () => {
    const gatehouse = await createGatehouse({ config: loadConfig({ env: env({ GATEHOUSE_SECRET: SECRET }), cwd }), logger: createLogger('silent') });
    await gatehouse.close();
    expect(await tables()).toBeGreaterThan(0);
  });

  it('`gatehouse migrate` against an unreachable database exits 1 with STORE_UNAVAILABLE', async () => {
    const proxy = await startTCPProxy({ host: '127.0.0.1', port: 1 });
    const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`;
    await proxy.close();
    const result = await cli(['migrate'], env({ GATEHOUSE_DATABASE_URL: url }));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^gatehouse: STORE_UNAVAILABLE: /);
  });

  it('an application on PostgreSQL never loads better-sqlite3 (a native addon), though the package exports the SQLite store', async () => {
    const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { createGatehouse, resolveConfig, openSQLiteStore, SQLiteStore } = await import(${JSON.stringify(index)});
      if (typeof openSQLiteStore !== 'function' || typeof SQLiteStore !== 'function') throw new Error('SQLite store no longer exported');
      const config = resolveConfig({
        secret: ${JSON.stringify(SECRET)}, dataDir: ${JSON.stringify(cwd)}, logLevel: 'silent',
        database: { url: ${JSON.stringify(schema.url)}, schema: ${JSON.stringify(schema.schema)} },
      });
      const gatehouse = await createGatehouse({ config });
      await gatehouse.auth.createUser({ username: 'pat', password: 'a long enough passphrase' });
      await gatehouse.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ sqlite: loaded.filter((k) => k.includes('/node_modules/better-sqlite3')), pg: loaded.some((k) => k.includes('/node_modules/pg/')) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd });
    // pg is loaded: the check would see a CommonJS module where there is one.
    expect(JSON.parse(stdout)).toEqual({ sqlite: [], pg: true });
    expect(await tables()).toBeGreaterThan(0);
  });

  it('an application on SQLite never loads pg', async () => {
    const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { createGatehouse, resolveConfig } = await import(${JSON.stringify(index)});
      const config = resolveConfig({ secret: ${JSON.stringify(SECRET)}, dataDir: ${JSON.stringify(cwd)}, logLevel: 'silent' });
      const gatehouse = await createGatehouse({ config });
      await gatehouse.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/pg'));
      console.log(JSON.stringify(loaded));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
