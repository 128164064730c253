import { AuthError } from './errors.js';
import { sharedStorage, type RefreshOutcome } from './tab-channel.js';
import type { SessionInfo, User } from './types.js';

/** The subset of the Web Locks API this module uses. */
export interface LockManagerLike {
  request<T>(name: string, options: { signal: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

/**
 * How long a tab waits for another tab's refresh before refreshing without
 * the lock (a tab frozen in the background can hold it indefinitely). Longer
 * than a refresh with its retries can take (the last retry starts within
 * 20 s and times out after 15 s), so a slow but live refresh is waited for.
 */
const LOCK_WAIT_MS = 40_000;

export interface RefreshResult {
  readonly user: User;
  readonly session: SessionInfo;
}

export interface RefreshCoordinatorOptions {
  /** Lock and storage key; one per Gatehouse deployment. */
  readonly name: string;
  /** Sends `POST /auth/refresh`; resolves with the outcome or rejects (network, 5xx) with an AuthError. */
  readonly perform: () => Promise<RefreshOutcome>;
  /** Told about every outcome, its own or one read from another tab. */
  readonly onOutcome: (outcome: RefreshOutcome, shared: boolean) => void;
  readonly locks?: LockManagerLike | undefined;
}

export interface RefreshCoordinator {
  /**
   * Refreshes unless a refresh (in any tab) already settled at or after
   * `sinceMs`, in which case that outcome is reused. `sinceMs` is when the
   * caller sent the request that found its access token expired.
   */
  refresh(sinceMs: number): Promise<RefreshResult>;
  /** Records an outcome another tab broadcast. */
  learn(outcome: RefreshOutcome): void;
}

function settle(outcome: RefreshOutcome): RefreshResult {
  if (outcome.ok) return { user: outcome.user, session: outcome.session };
  throw new AuthError(outcome.code, 'The session could not be refreshed.', { status: 401 });
}

function isOutcome(value: unknown): value is RefreshOutcome {
  const v = value as Partial<Record<string, unknown>> | null;
  return typeof v?.['at'] === 'number' && typeof v['ok'] === 'boolean';
}

/**
 * Single-flight refresh, within a tab and across tabs.
 *
 * Within a tab, concurrent callers share one promise. Across tabs, the
 * refresh runs under a Web Lock; the tab that gets the lock second first
 * reads the outcome the first one left in localStorage (written before the
 * lock is released, so it is there when the lock is granted) and reuses it
 * instead of spending the refresh token again. Where Web Locks are missing,
 * tabs may refresh at the same moment; the server's grace window answers the
 * second with the same new token, so neither is taken for a thief.
 */
export function createRefreshCoordinator(options: RefreshCoordinatorOptions): RefreshCoordinator {
  const storageKey = `${options.name}:refresh`;
  let latestKnown: RefreshOutcome | undefined;
  let inFlight: Promise<RefreshResult> | undefined;

  const stored = (): RefreshOutcome | undefined => {
    try {
      const raw = sharedStorage()?.getItem(storageKey);
      const value: unknown = raw == null ? undefined : JSON.parse(raw);
      return isOutcome(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };

  const latest = (): RefreshOutcome | undefined => {
    const fromStorage = stored();
    if (fromStorage !== undefined && (latestKnown === undefined || fromStorage.at > latestKnown.at)) return fromStorage;
    return latestKnown;
  };

  const remember = (outcome: RefreshOutcome): void => {
    if (latestKnown === undefined || outcome.at >= latestKnown.at) latestKnown = outcome;
    try {
      sharedStorage()?.setItem(storageKey, JSON.stringify(outcome));
    } catch {
      // quota or privacy mode: the broadcast still reaches the other tabs
    }
  };

  const reuseOrPerform = async (sinceMs: number): Promise<RefreshResult> => {
    const known = latest();
    if (known !== undefined && known.at >= sinceMs) {
      if (known !== latestKnown) options.onOutcome(known, true);
      latestKnown = known;
      return settle(known);
    }
    const outcome = await options.perform();
    remember(outcome);
    options.onOutcome(outcome, false);
    return settle(outcome);
  };

  const underLock = async (locks: LockManagerLike, run: () => Promise<RefreshResult>): Promise<RefreshResult> => {
    const waited = new AbortController();
    const timer = setTimeout(() => waited.abort(), LOCK_WAIT_MS);
    let granted = false;
    try {
      return await locks.request(options.name, { signal: waited.signal }, () => {
        granted = true;
        clearTimeout(timer);
        return run();
      });
    } catch (error) {
      // Only a lock we never got falls back; a refresh that ran and failed is the answer.
      if (!granted && waited.signal.aborted) return run();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    refresh(sinceMs) {
      // A refresh already under way settles after the caller's request was sent: join it.
      if (inFlight !== undefined) return inFlight;
      const known = latest();
      if (known !== undefined && known.at >= sinceMs) return reuseOrPerform(sinceMs);
      const run = () => reuseOrPerform(sinceMs);
      inFlight = (options.locks === undefined ? run() : underLock(options.locks, run)).finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    learn(outcome) {
      if (latestKnown === undefined || outcome.at >= latestKnown.at) latestKnown = outcome;
    },
  };
}
