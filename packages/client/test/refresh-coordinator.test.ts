// The refresh coordinator's own rules, with `perform` counting calls instead
// of a server. Real tabs with real Web Locks: examples/demo/test/browser-tabs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../src/errors.js';
import { createRefreshCoordinator, type LockManagerLike } from '../src/refresh-coordinator.js';
import type { RefreshOutcome } from '../src/tab-channel.js';

const user = { id: 'u1', username: 'alice', roles: ['user'] };
const session = { id: 's1', expiresAt: '2026-01-08T00:00:00.000Z', accessTokenExpiresAt: '2026-01-01T00:05:00.000Z' };

function coordinator(locks?: LockManagerLike) {
  const performed: number[] = [];
  const outcomes: Array<{ outcome: RefreshOutcome; shared: boolean }> = [];
  const c = createRefreshCoordinator({
    name: 'test',
    locks,
    async perform() {
      performed.push(Date.now());
      return { at: Date.now(), ok: true, user, session };
    },
    onOutcome: (outcome, shared) => outcomes.push({ outcome, shared }),
  });
  return { c, performed, outcomes };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createRefreshCoordinator', () => {
  it('shares one refresh among concurrent callers', async () => {
    const { c, performed } = coordinator();
    const results = await Promise.all([c.refresh(Date.now()), c.refresh(Date.now()), c.refresh(Date.now())]);
    expect(performed).toHaveLength(1);
    expect(results.map((r) => r.user.username)).toEqual(['alice', 'alice', 'alice']);
  });

  it('reuses an outcome that settled after the caller\'s request was sent, even one another tab reported', async () => {
    const { c, performed, outcomes } = coordinator();
    const sentAt = Date.now() - 1_000;
    c.learn({ at: Date.now(), ok: true, user, session });
    expect((await c.refresh(sentAt)).session.id).toBe('s1');
    expect(performed).toHaveLength(0);
    expect(outcomes).toEqual([]); // the tab that reported it has told everyone already

    // A request sent after that outcome needs a fresh refresh.
    await c.refresh(Date.now() + 1);
    expect(performed).toHaveLength(1);
  });

  it('reuses a refusal too: the session is over for every request that was in flight', async () => {
    const { c, performed } = coordinator();
    c.learn({ at: Date.now(), ok: false, code: 'REFRESH_TOKEN_REUSED' });
    const error = await c.refresh(Date.now() - 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'REFRESH_TOKEN_REUSED', status: 401 });
    expect(performed).toHaveLength(0);
  });

  it('refreshes without the lock when another tab has held it for 40 s (a frozen tab)', async () => {
    vi.useFakeTimers();
    const frozenTab: LockManagerLike = {
      request: (_name, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    };
    const { c, performed } = coordinator(frozenTab);
    const pending = c.refresh(Date.now());
    await vi.advanceTimersByTimeAsync(39_999);
    expect(performed).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect((await pending).user.username).toBe('alice');
    expect(performed).toHaveLength(1);
  });
});
