import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { RevocationList, type RevocationFeed, type RevocationFeedHandlers, type RevocationNotice } from '../../src/core/revocation-list.js';
import { openSQLiteStore, type SQLiteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * The rules by which the in-memory revocation list decides whether it may
 * vouch for a token. Time is driven by hand: the wall clock (ManualClock) and
 * the monotonic clock staleness is measured on. The feed is driven by hand the
 * same way (the Redis feed itself is exercised in test/scale/).
 */

const MAX_STALENESS_MS = 10_000;

/** A feed the test drives, as a fake clock drives time. */
class HandDrivenFeed implements RevocationFeed {
  handlers: RevocationFeedHandlers | undefined;
  subscribedSince: number | null = null;
  readonly published: RevocationNotice[] = [];
  start(handlers: RevocationFeedHandlers): void {
    this.handlers = handlers;
  }
  publish(notice: RevocationNotice): void {
    this.published.push(notice);
  }
  async close(): Promise<void> {}
}

let dir: string;
let store: SQLiteStore;
let clock: ManualClock;
let monotonic: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-revocations-'));
  store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
  await store.migrate();
  clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  monotonic = 1_000;
});

afterEach(async () => {
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function list(feed?: RevocationFeed): RevocationList {
  return new RevocationList(store, clock, {
    retentionMs: 365_000,
    maxStalenessMs: MAX_STALENESS_MS,
    monotonicNow: () => monotonic,
    ...(feed === undefined ? {} : { feed }),
  });
}

describe('without a feed, the list vouches for tokens only while store reads succeed', () => {
  it('is current for maxStalenessMs after the start of its last successful read, then answers unverifiable', async () => {
    const revocations = list();
    await revocations.sync();
    monotonic += MAX_STALENESS_MS;
    expect(revocations.check('some-session', 'some-user', 0)).toBeNull();
    monotonic += 1;
    expect(revocations.check('some-session', 'some-user', 0)).toBe('unverifiable');
  });

  it('still answers revoked for a revocation it knows, stale or not', async () => {
    const revocations = list();
    await revocations.sync();
    revocations.revokeSession('gone', clock.now());
    monotonic += MAX_STALENESS_MS + 1;
    expect(revocations.check('gone', 'some-user', 0)).toBe('revoked');
  });

  it('a failing read leaves it stale; a list that has read nothing yet is not current until its first read', async () => {
    const revocations = list();
    await revocations.sync();
    monotonic += MAX_STALENESS_MS + 1;
    await store.close();
    await expect(revocations.sync()).rejects.toThrow();
    expect(revocations.current).toBe(false);
    store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
    const reopened = new RevocationList(store, clock, { retentionMs: 365_000, maxStalenessMs: MAX_STALENESS_MS, monotonicNow: () => monotonic });
    expect(reopened.current).toBe(false); // nothing read yet
    await reopened.sync();
    expect(reopened.current).toBe(true);
  });
});

describe('with a feed', () => {
  it('is live only once a store read has begun after the subscription, and then stays current without reads', async () => {
    const feed = new HandDrivenFeed();
    const revocations = list(feed);
    await revocations.sync(); // began at 1000
    monotonic = 2_000;
    feed.subscribedSince = 2_000;
    expect(revocations.live).toBe(false); // anything published before 2000 may have been missed
    monotonic = 2_500;
    await revocations.sync(); // began at 2500, after the subscription
    expect(revocations.live).toBe(true);
    monotonic += 10 * MAX_STALENESS_MS;
    expect(revocations.check('some-session', 'some-user', 0)).toBeNull();
  });

  it('when the subscription breaks, the age of the last read counts again', async () => {
    const feed = new HandDrivenFeed();
    const revocations = list(feed);
    feed.subscribedSince = 500;
    await revocations.sync(); // began at 1000
    expect(revocations.live).toBe(true);
    monotonic = 1_000 + MAX_STALENESS_MS + 1;
    feed.subscribedSince = null;
    expect(revocations.live).toBe(false);
    expect(revocations.check('some-session', 'some-user', 0)).toBe('unverifiable');
  });

  it('a resubscription is not trusted until the store has been read again', async () => {
    const feed = new HandDrivenFeed();
    const revocations = list(feed);
    feed.subscribedSince = 500;
    await revocations.sync();
    feed.subscribedSince = null;
    monotonic = 3_000;
    feed.subscribedSince = 3_000;
    expect(revocations.live).toBe(false);
    monotonic = 3_001;
    await revocations.sync();
    expect(revocations.live).toBe(true);
  });

  it('publishes revocations made here, and applies those that arrive', async () => {
    const feed = new HandDrivenFeed();
    const revocations = list(feed);
    await revocations.sync();
    revocations.revokeSession('mine', clock.now());
    revocations.markUserChanged('user-1', 4, clock.now());
    expect(feed.published).toEqual([
      { kind: 'session', sessionId: 'mine', at: clock.now() },
      { kind: 'user', userId: 'user-1', version: 4, at: clock.now() },
    ]);
    feed.handlers?.receive({ kind: 'session', sessionId: 'theirs', at: clock.now() });
    feed.handlers?.receive({ kind: 'user', userId: 'user-2', version: 3, at: clock.now() + 5_000 });
    expect(revocations.check('theirs', 'user-3', 0)).toBe('revoked');
    expect(revocations.check('another', 'user-2', 2)).toBe('stale');
    expect(revocations.check('another', 'user-2', 3)).toBeNull();
    // What arrives is not sent on again.
    expect(feed.published).toHaveLength(2);
  });
});

describe('a user change makes exactly the tokens of older user versions stale', () => {
  it('refuses a token of the version before the change even when both happened in the same millisecond', async () => {
    const revocations = list();
    await revocations.sync();
    // No clock moves between issuing (version 0) and the change: only the versions tell them apart.
    expect(revocations.check('s1', 'u1', 0)).toBeNull();
    revocations.markUserChanged('u1', 1, clock.now());
    expect(revocations.check('s1', 'u1', 0)).toBe('stale');
    // A token issued right after the change, in the same millisecond, carries version 1 and passes.
    expect(revocations.check('s1', 'u1', 1)).toBeNull();
    // Other users are not touched.
    expect(revocations.check('s2', 'u2', 0)).toBeNull();
  });

  it('never goes back to an older version, whatever order notices and store events arrive in', async () => {
    const revocations = list();
    await revocations.sync();
    revocations.markUserChanged('u1', 5, clock.now());
    revocations.markUserChanged('u1', 3, clock.now());
    expect(revocations.check('s1', 'u1', 4)).toBe('stale');
    expect(revocations.check('s1', 'u1', 5)).toBeNull();
  });

  it('a token without a user version (minted before versions existed) is stale after any change of its user', async () => {
    const revocations = list();
    await revocations.sync();
    expect(revocations.check('s1', 'u1', -1)).toBeNull();
    revocations.markUserChanged('u1', 0, clock.now());
    expect(revocations.check('s1', 'u1', -1)).toBe('stale');
  });

  it('learns the version from the store (a change made by another process, such as the CLI)', async () => {
    const user = await store.createUser({ id: 'u1', username: 'alice', passwordHash: 'h', roles: ['admin'], createdAt: clock.now() });
    const revocations = list();
    await revocations.sync();
    expect(revocations.check('s1', user.id, user.version)).toBeNull();
    await store.changeRoles(user.id, () => [], clock.now());
    await revocations.sync();
    expect(revocations.check('s1', user.id, user.version)).toBe('stale');
    expect(revocations.check('s1', user.id, user.version + 1)).toBeNull();
  });

  it('forgets a user change once no token of the older version can still be valid', async () => {
    const revocations = list();
    await revocations.sync();
    revocations.markUserChanged('u1', 1, clock.now());
    clock.advance(365_000);
    await revocations.sync();
    expect(revocations.check('s1', 'u1', 0)).toBeNull();
    expect(revocations.size).toBe(0);
  });
});
