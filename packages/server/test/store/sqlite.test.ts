import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isGatehouseError } from '../../src/core/errors.js';
import { applyMigrations, MIGRATIONS, schemaVersion } from '../../src/store/sqlite/migrations.js';
import { SQLiteStore, openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RotationOutcome, Store } from '../../src/store/store.js';
import { describeAuditContract } from './audit-contract.js';
import { describeStoreContract } from './contract.js';
import { describeExternalIdentityContract } from './contract-external.js';
import { describeOAuthClientContract } from './oauth-client-contract.js';
import { describeRotationContract } from './rotation-contract.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const rotation = { replacementHash: 'repl', now: T0 + 60_000, graceMs: 10_000, idleTimeoutMs: 30 * 60_000, actor: { ip: null, userAgent: null } };

const openFileStore = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-store-'));
  const store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
  return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
};
describeStoreContract('SQLite file', openFileStore);
describeExternalIdentityContract('SQLite file', openFileStore);
describeOAuthClientContract('SQLite file', openFileStore);

describeRotationContract('SQLite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-store-'));
  const store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
  return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
});

describeAuditContract('SQLite file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-store-'));
  const path = join(dir, 'gatehouse.db');
  const store = openSQLiteStore({ path });
  return {
    store,
    cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); },
    // Another connection to the same file, as the CLI would be; the store sees the trigger at once.
    refuseAuditWrites: async () => {
      const db = new Database(path);
      db.exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END`);
      return async () => {
        db.exec('DROP TRIGGER refuse_audit');
        db.close();
      };
    },
  };
});

describe('SQLiteStore specifics', () => {
  let dir: string;
  let path: string;
  const opened: { close(): unknown }[] = [];
  const open = (options: { busyTimeoutMs?: number } = {}) => {
    const store = openSQLiteStore({ path, ...options });
    opened.push(store);
    return store;
  };
  const raw = () => {
    const db = new Database(path);
    opened.push(db);
    return db;
  };
  const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as { code?: unknown }).code);
  const seed = async (store: Store) => {
    const user = await store.createUser({ id: 'u1', username: 'alice', passwordHash: 'h', roles: [], createdAt: T0 });
    await store.createSession(
      { id: 's1', userId: user.id, createdAt: T0, idleExpiresAt: T0 + 3_600_000, absoluteExpiresAt: T0 + 86_400_000, userAgent: null, ip: null },
      'rt0',
    );
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-sqlite-'));
    path = join(dir, 'data', 'nested', 'gatehouse.db');
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates missing directories and an owner-only database file in WAL mode', async () => {
    const store = open();
    await seed(store);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}-wal`)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o077).toBe(0);
    expect(raw().pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('works in memory', async () => {
    const store = openSQLiteStore({ path: ':memory:' });
    opened.push(store);
    await seed(store);
    expect(await store.findUserByUsername('alice')).toMatchObject({ id: 'u1' });
  });

  it('prepares its statements once, not per call', async () => {
    await mkdir(dirname(path), { recursive: true });
    const db = new Database(path);
    const prepare = vi.spyOn(db, 'prepare');
    const store = new SQLiteStore(db);
    opened.push(store);
    const preparedAtStart = prepare.mock.calls.length;
    await seed(store);
    await store.rotateRefreshToken({ presentedHash: 'rt0', successorHash: 'rt1', ...rotation });
    await store.changePassword('u1', 'h2', T0 + 1);
    await store.listAudit({ userId: 'u1' });
    await store.purgeExpired(T0);
    expect(prepare.mock.calls.length).toBe(preparedAtStart);
  });

  it('purges in batches, letting other work run between them', async () => {
    const store = open();
    await seed(store);
    const db = raw();
    const insert = db.prepare('INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at) VALUES (?, ?, 0, 0, 1, 2)');
    const token = db.prepare('INSERT INTO refresh_tokens (hash, session_id, generation, created_at, rotated_at) VALUES (?, ?, 0, 0, 0)');
    db.transaction(() => {
      for (let i = 0; i < 450; i++) {
        insert.run(`old-${i}`, 'u1');
        // Rotated tokens of a long session: more than a batch of tokens in all.
        for (let g = 0; g < 6; g++) token.run(`old-rt-${i}-${g}`, `old-${i}`);
      }
    })();
    let ranDuringPurge = false;
    let purged = false;
    setImmediate(() => {
      ranDuringPurge = !purged;
    });
    expect(await store.purgeExpired(T0)).toBe(450);
    purged = true;
    expect(ranDuringPurge).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM refresh_tokens').get()).toEqual({ n: 1 });
    expect(await store.findSession('s1')).not.toBeNull();
  });

  describe('migrations', () => {
    it('applies every migration once and records it; re-running is a no-op', async () => {
      await mkdir(dirname(path), { recursive: true });
      const db = raw();
      expect(schemaVersion(db)).toBe(0);
      expect(applyMigrations(db)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(applyMigrations(db)).toEqual([]);
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      expect(rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
      await open().migrate();
      await open().migrate();
      expect(db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    });

    it('applies only new migrations to an existing database, and rolls a failing one back whole', async () => {
      await seed(open());
      const db = raw();
      const next = MIGRATIONS.length + 1;
      const broken = [...MIGRATIONS, { version: next, name: 'broken', sql: 'CREATE TABLE extra (x INTEGER); SELECT * FROM missing;' }];
      expect(() => applyMigrations(db, broken)).toThrow();
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(db.prepare(`SELECT name FROM sqlite_schema WHERE name = 'extra'`).get()).toBeUndefined();
      const good = [...MIGRATIONS, { version: next, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER);' }];
      expect(applyMigrations(db, good)).toEqual([next]);
      expect(db.prepare('SELECT COUNT(*) AS n FROM users').get()).toEqual({ n: 1 });
    });

    it('upgrades a database from before user versions: its users start at version 0, its user events read as version 0', async () => {
      await mkdir(dirname(path), { recursive: true });
      const db = raw();
      const before = MIGRATIONS.findIndex((m) => m.name === 'user-versions');
      applyMigrations(db, MIGRATIONS.slice(0, before));
      db.prepare(
        `INSERT INTO users (id, username, password_hash, roles, disabled, created_at, updated_at, tokens_valid_after) VALUES ('u1', 'alice', 'h', '["admin"]', 0, ?, ?, ?)`,
      ).run(T0, T0, T0 + 5);
      db.prepare(`INSERT INTO revocation_events (kind, session_id, user_id, at) VALUES ('user', NULL, 'u1', ?)`).run(T0 + 5);
      const store = open();
      expect(await store.findUserById('u1')).toMatchObject({ roles: ['admin'], version: 0 });
      expect(await store.listRevocations(0, 0)).toEqual([{ seq: 1, kind: 'user', userId: 'u1', version: 0, at: T0 + 5 }]);
      expect((await store.changeRoles('u1', () => [], T0 + 6)).user.version).toBe(1);
    });

    it('refuses a database written by a newer Gatehouse, and leaves it alone', async () => {
      const store = open();
      await seed(store);
      raw().prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
      expect(await codeOf(store.migrate())).toBe('STORE_UNAVAILABLE');
      let thrown: unknown;
      try { open(); } catch (error) { thrown = error; }
      expect(isGatehouseError(thrown, 'STORE_UNAVAILABLE')).toBe(true);
      expect(schemaVersion(raw())).toBe(999);
    });
  });

  describe('driver failures', () => {
    it('reports a file that is not a database as STORE_UNAVAILABLE', async () => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, 'this is not an sqlite database, just some text that is long enough'.repeat(100));
      let thrown: unknown;
      try { open(); } catch (error) { thrown = error; }
      expect(isGatehouseError(thrown, 'STORE_UNAVAILABLE')).toBe(true);
    });

    it('reports a write lock held too long by another process as STORE_UNAVAILABLE, with the cause', async () => {
      const store = open({ busyTimeoutMs: 50 });
      await seed(store);
      const other = raw();
      other.exec('BEGIN IMMEDIATE');
      const error = await store.revokeSession('s1', 'logout', T0).catch((e: unknown) => e);
      expect(isGatehouseError(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect((error as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
      // WAL readers are not blocked by a writer.
      expect(await store.findSession('s1')).toMatchObject({ revokedAt: null });
      other.exec('ROLLBACK');
      expect(await store.revokeSession('s1', 'logout', T0)).toMatchObject({ revokedAt: T0 });
    });
  });

  it('applies rotations presented together each in isolation: one that fails is undone alone, the others commit', async () => {
    const store = open();
    await store.createUser({ id: 'u1', username: 'alice', passwordHash: 'h', roles: [], createdAt: T0 });
    for (const k of [1, 2, 3]) {
      await store.createSession(
        { id: `s${k}`, userId: 'u1', createdAt: T0, idleExpiresAt: T0 + 3_600_000, absoluteExpiresAt: T0 + 86_400_000, userAgent: null, ip: null },
        `rt-${k}`,
      );
    }
    // Session s2's audit row cannot be written, so its rotation must not happen; s1's and s3's must.
    raw().exec(`CREATE TRIGGER refuse_s2 BEFORE INSERT ON audit_events WHEN NEW.session_id = 's2' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const outs = await Promise.allSettled([1, 2, 3].map((k) => store.rotateRefreshToken({ ...rotation, presentedHash: `rt-${k}`, successorHash: `next-${k}` })));
    expect(outs.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.findSessionByRefreshTokenHash('next-1')).toMatchObject({ id: 's1' });
    expect(await store.findSessionByRefreshTokenHash('next-2')).toBeNull();
    expect(await store.findSessionByRefreshTokenHash('next-3')).toMatchObject({ id: 's3' });
    expect((await store.listAudit({ type: 'refresh' })).map((e) => e.sessionId).sort()).toEqual(['s1', 's3']);
    raw().exec('DROP TRIGGER refuse_s2');
    expect(await store.rotateRefreshToken({ ...rotation, presentedHash: 'rt-2', successorHash: 'next-2' })).toMatchObject({ status: 'rotated' });
  });

  describe('two stores on one file', () => {
    it("see each other's writes", async () => {
      const a = open();
      const b = open();
      await seed(a);
      expect(await b.findUserByUsername('alice')).toMatchObject({ id: 'u1' });
      expect(await codeOf(b.createUser({ id: 'u2', username: 'alice', passwordHash: 'h', roles: [], createdAt: T0 }))).toBe('USERNAME_TAKEN');
      expect(await b.rotateRefreshToken({ presentedHash: 'rt0', successorHash: 'rt1', ...rotation })).toMatchObject({ status: 'rotated' });
      expect(await a.findSessionByRefreshTokenHash('rt1')).toMatchObject({ id: 's1', lastSeenAt: rotation.now });
      await a.disableUser('u1', T0 + 2);
      expect(await b.listRevocations(0, 0)).toMatchObject([{ kind: 'session', sessionId: 's1' }, { kind: 'user', userId: 'u1' }]);
    });

    it('let only one concurrent rotation win across stores', async () => {
      const stores = [open(), open()];
      await seed(stores[0] as Store);
      const outs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (stores[i % 2] as Store).rotateRefreshToken({ presentedHash: 'rt0', successorHash: `succ-${i}`, ...rotation }),
        ),
      );
      expectOneWinner(outs);
      expect(liveTokens()).toBe(1);
    });

    it('let only one rotation win when separate processes race for the same tokens', async () => {
      // Many families, so that the processes overlap for certain rather than by luck of scheduling.
      const families = 150;
      const store = open();
      await store.createUser({ id: 'u1', username: 'alice', passwordHash: 'h', roles: [], createdAt: T0 });
      for (let k = 0; k < families; k++) {
        await store.createSession(
          { id: `s${k}`, userId: 'u1', createdAt: T0, idleExpiresAt: T0 + 3_600_000, absoluteExpiresAt: T0 + 86_400_000, userAgent: null, ip: null },
          `rt-${k}`,
        );
      }
      const script = await buildChildScript(dir);
      const children = Array.from({ length: 5 }, (_, i) =>
        fork(script, [path, String(families), String(i), JSON.stringify(rotation)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      );
      const results = children.map(
        (child) =>
          new Promise<(RotationOutcome | { error: string })[]>((resolve, reject) => {
            child.on('message', (m: { ready?: boolean; outs?: (RotationOutcome | { error: string })[] }) => {
              if (m.outs) resolve(m.outs);
            });
            child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
          }),
      );
      await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
      // A common start instant, so the children hit the lock together rather than in fork order.
      const startAt = Date.now() + 300;
      for (const child of children) child.send({ startAt });
      const settled = await Promise.all(results);
      expect(settled.flat().filter((o) => 'error' in o)).toEqual([]);
      for (let k = 0; k < families; k++) expectOneWinner(settled.map((outs) => outs[k] as RotationOutcome));
      const db = raw();
      const live = db.prepare(`SELECT session_id, COUNT(*) AS n FROM refresh_tokens WHERE rotated_at IS NULL GROUP BY session_id HAVING n <> 1`);
      expect(live.all()).toEqual([]);
      expect(db.prepare(`SELECT COUNT(*) AS n FROM refresh_tokens WHERE hash LIKE 'succ-%'`).get()).toEqual({ n: families });
    });
  });

  function expectOneWinner(outs: RotationOutcome[]): void {
    const rotated = outs.filter((o) => o.status === 'rotated');
    expect(rotated).toHaveLength(1);
    expect(outs.filter((o) => o.status === 'grace')).toHaveLength(outs.length - 1);
  }

  function liveTokens(): number {
    const row = raw().prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = 's1' AND rotated_at IS NULL`).get();
    const succ = raw().prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM refresh_tokens WHERE hash LIKE 'succ-%'`).get();
    expect(succ?.n).toBe(1);
    return row?.n ?? -1;
  }
});

/**
 * Transpiles the store's sources into `dir` so that plain `node` child
 * processes can run the real SQLiteStore (vitest's transform lives only here).
 */
async function buildChildScript(dir: string): Promise<string> {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  const out = join(dir, 'child');
  // The store requires the driver by name; from the temporary directory that name resolves to nothing, so it is given by path.
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const sqliteModules = (await readdir(join(src, 'store/sqlite'))).filter((f) => f.endsWith('.ts')).map((f) => `store/sqlite/${f}`);
  for (const file of ['core/errors.ts', 'store/rows.ts', 'store/oauth-client-store.ts', ...sqliteModules]) {
    const { outputText } = ts.transpileModule(await readFile(join(src, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    await mkdir(dirname(join(out, file)), { recursive: true });
    await writeFile(join(out, file.replace(/\.ts$/, '.js')), outputText.replaceAll(`'better-sqlite3'`, `'${driver}'`));
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  const script = join(out, 'rotate.js');
  await writeFile(
    script,
    `import { openSQLiteStore } from './store/sqlite/sqlite-store.js';
const [path, families, child, rotation] = process.argv.slice(2);
const store = openSQLiteStore({ path });
process.once('message', async ({ startAt }) => {
  while (Date.now() < startAt) { /* spin: start together */ }
  const outs = [];
  for (let k = 0; k < Number(families); k++) {
    const input = { presentedHash: \`rt-\${k}\`, successorHash: \`succ-\${k}-\${child}\`, ...JSON.parse(rotation) };
    outs.push(await store.rotateRefreshToken(input).catch((e) => ({ error: String(e?.code ?? e) })));
  }
  await store.close();
  process.send({ outs }, () => process.disconnect());
});
process.send({ ready: true });
`,
  );
  return script;
}
