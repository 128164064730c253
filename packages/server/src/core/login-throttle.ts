import type { Clock } from './clock.js';

export interface LoginThrottleOptions {
  readonly accountFreeAttempts: number;
  readonly ipFreeAttempts: number;
  readonly maxDelaySeconds: number;
  readonly failureWindowSeconds: number;
  /** Bound on remembered keys, so a flood of usernames cannot exhaust memory. */
  readonly maxEntries?: number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** Outcome of {@link LoginThrottle.check}. */
export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Slows password guessing per account and per client IP. After the free
 * attempts each failure doubles the wait, capped at `maxDelaySeconds`, so a
 * lockout always ends (NIST 800-63B: no permanent lockout). Attempts refused
 * while waiting are not counted: an attacker cannot extend a victim's wait by
 * hammering, only keep it at the cap.
 *
 * In memory, per process; many instances share counters through Redis instead.
 */
export class LoginThrottle {
  readonly #clock: Clock;
  readonly #options: Required<LoginThrottleOptions>;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions, clock: Clock) {
    this.#options = { maxEntries: 100_000, ...options };
    this.#clock = clock;
  }

  /** Whether a login for `account` from `ip` may be attempted now. */
  check(account: string, ip: string): ThrottleDecision {
    const now = this.#clock.now();
    const waitMs = Math.max(this.#blockedFor(`a:${account}`, now), this.#blockedFor(`i:${ip}`, now));
    return waitMs > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(waitMs / 1000) } : { allowed: true };
  }

  recordFailure(account: string, ip: string): void {
    const now = this.#clock.now();
    this.#fail(`a:${account}`, this.#options.accountFreeAttempts, now);
    this.#fail(`i:${ip}`, this.#options.ipFreeAttempts, now);
  }

  /** A correct password clears the account's failures; the IP's count stays, so one valid account cannot launder guesses at others. */
  recordSuccess(account: string): void {
    this.#entries.delete(`a:${account}`);
  }

  #blockedFor(key: string, now: number): number {
    const entry = this.#entries.get(key);
    return entry === undefined ? 0 : Math.max(0, entry.blockedUntil - now);
  }

  #fail(key: string, freeAttempts: number, now: number): void {
    let entry = this.#entries.get(key);
    if (entry === undefined || now - entry.lastFailureAt > this.#options.failureWindowSeconds * 1000) {
      entry = { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    }
    entry.failures += 1;
    entry.lastFailureAt = now;
    if (entry.failures >= freeAttempts) {
      const exponent = Math.min(entry.failures - freeAttempts, 30);
      const delaySeconds = Math.min(2 ** exponent, this.#options.maxDelaySeconds);
      entry.blockedUntil = now + delaySeconds * 1000;
    }
    // Re-insert so Map order is least-recently-failed first, then evict from the front.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
