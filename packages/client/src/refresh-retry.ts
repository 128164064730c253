import { AuthError } from './errors.js';

/**
 * How a refresh that got no verdict is tried again. The server counts a
 * rotated refresh token presented again after its grace window (10 s by
 * default) as theft, and a lost answer leaves the browser holding exactly such
 * a token: it must be presented again soon, not at the next 401 half a minute
 * later.
 */
export interface RefreshRetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The wait before the first retry; each further retry waits twice as long. */
  readonly baseDelayMs: number;
  /** No retry starts later than this after the first attempt started (a timed-out attempt already took long). */
  readonly windowMs: number;
}

/**
 * Four attempts: retries after about 0.5, 1 and 2 s (each between half and all
 * of that), all three inside the grace window when the failures are quick.
 */
export const REFRESH_RETRY: RefreshRetryPolicy = { attempts: 4, baseDelayMs: 500, windowMs: 20_000 };

/**
 * True for a refresh that failed without the server's verdict on the session:
 * no answer (offline, reset, timeout), an answer cut short or unreadable, a
 * 5xx from the server or a proxy, a 408. A 4xx with a code (a refused token,
 * a refused origin) is a verdict and is never retried.
 */
export function isTransientRefreshFailure(error: unknown): boolean {
  if (!(error instanceof AuthError)) return false;
  if (error.status === 0) return true; // NETWORK_ERROR: no answer at all
  if (error.status >= 500 || error.status === 408) return true;
  // A 2xx whose body could not be read: the server did rotate, the answer was lost on the way.
  return error.code === 'BAD_RESPONSE' && error.status >= 200 && error.status < 300;
}

/**
 * The wait before retry number `retry` (1 for the first): `baseDelayMs`
 * doubled for each earlier retry, then scaled into [½, 1) of that by
 * `random`, so tabs and devices that failed together do not retry together.
 */
export function refreshRetryDelayMs(retry: number, policy: RefreshRetryPolicy, random: () => number = Math.random): number {
  const full = policy.baseDelayMs * 2 ** (retry - 1);
  return Math.round(full / 2 + (full / 2) * random());
}

export interface RetryingOptions {
  readonly policy?: RefreshRetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Checked before each retry: false stops retrying (the client was disposed). */
  readonly shouldContinue?: () => boolean;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it settles with anything but a transient failure, at
 * most `policy.attempts` times and with no retry starting after
 * `policy.windowMs`; then rejects with the last failure.
 */
export async function retryTransientRefresh<T>(attempt: () => Promise<T>, options: RetryingOptions = {}): Promise<T> {
  const policy = options.policy ?? REFRESH_RETRY;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const started = now();
  for (let retry = 0; ; retry += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransientRefreshFailure(error) || retry + 1 >= policy.attempts) throw error;
      const delayMs = refreshRetryDelayMs(retry + 1, policy, options.random);
      if (now() + delayMs - started > policy.windowMs) throw error;
      await sleep(delayMs);
      if (options.shouldContinue?.() === false) throw error;
    }
  }
}
