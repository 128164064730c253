/**
 * consumeOnce on the SQLite store groups the consumes that arrive together
 * into one commit (one fsync). These pin what that must not change: each
 * consume is still decided alone, a value is still accepted once, and no
 * consume is answered `true` before its record is committed — a batch that
 * cannot commit fails every one of its consumes (the caller refuses: fail closed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../src/core/errors.js';
import { openSQLiteStore } from '../../src/store/sqlite/sqlite-store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

describe('SQLite consumeOnce, grouped into one commit', () => {
  let dir: string;
  let path: string;
  const opened: { close(): unknown }[] = [];
  const open = (options: { busyTimeoutMs?: number } = {}) => {
    const store = openSQLiteStore({ path, ...options });
    opened.push(store);
    return store;
  };
  /** Another connection to the file, as the CLI or a second process would have. */
  const raw = () => {
    const db = new Database(path);
    opened.push(db);
    return db;
  };
  const recorded = (key: string) => raw().prepare('SELECT count(*) AS n FROM consumed_values WHERE key = ?').get(key);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-consume-'));
    path = join(dir, 'gatehouse.db');
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each consume of a batch only once its record is committed, visible to another connection', async () => {
    const store = open();
    const keys = Array.from({ length: 50 }, (_, i) => `nonce-${i}`);
    const outcomes = await Promise.all(keys.map((k) => store.consumeOnce(k, T0 + MIN, T0)));
    expect(outcomes.every((o) => o)).toBe(true);
    for (const k of keys) expect(recorded(k)).toEqual({ n: 1 });
  });

  it('accepts a value presented twice in one batch once, and refuses it in the next batch too', async () => {
    const store = open();
    expect(await Promise.all([store.consumeOnce('twice', T0 + MIN, T0), store.consumeOnce('twice', T0 + MIN, T0)])).toEqual([true, false]);
    expect(await store.consumeOnce('twice', T0 + MIN, T0 + 1)).toBe(false);
  });

  it('decides each consume of a batch in isolation: one that fails is refused alone, the others commit', async () => {
    const store = open();
    raw().exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON consumed_values WHEN NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const outs = await Promise.allSettled(['a', 'bad', 'c'].map((k) => store.consumeOnce(k, T0 + MIN, T0)));
    expect(outs.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(recorded('a')).toEqual({ n: 1 });
    expect(recorded('bad')).toEqual({ n: 0 });
    expect(recorded('c')).toEqual({ n: 1 });
  });

  it('fails every consume of a batch that cannot commit with STORE_UNAVAILABLE, recording none', async () => {
    const store = open({ busyTimeoutMs: 50 });
    const other = raw();
    other.exec('BEGIN IMMEDIATE');
    const outs = await Promise.all(['x', 'y'].map((k) => store.consumeOnce(k, T0 + MIN, T0).catch((e: unknown) => e)));
    for (const error of outs) expect(isGatehouseError(error, 'STORE_UNAVAILABLE')).toBe(true);
    other.exec('ROLLBACK');
    expect(recorded('x')).toEqual({ n: 0 });
    // Nothing was half-recorded: once the lock is gone, the same values are accepted (once).
    expect(await Promise.all(['x', 'y', 'x'].map((k) => store.consumeOnce(k, T0 + MIN, T0)))).toEqual([true, true, false]);
  });

  it('fails a consume pending when the store closes, rather than accepting it', async () => {
    const store = open();
    const pending = store.consumeOnce('late', T0 + MIN, T0).catch((e: unknown) => e);
    await store.close();
    expect(isGatehouseError(await pending, 'STORE_UNAVAILABLE')).toBe(true);
  });

  it('lets exactly one of many concurrent consumes of one value win across two stores on one file', async () => {
    const stores = [open(), open()];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (stores[i % 2] as ReturnType<typeof open>).consumeOnce('shared', T0 + MIN, T0)),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });
});
