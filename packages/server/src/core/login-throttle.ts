import { isIPv6 } from 'node:net';
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
  /** Bumped by every counted failure, so a success can tell whether anyone else counted since. */
  version: number;
}

/** Outcome of {@link MemoryLoginThrottle.check}. */
export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * An attempt {@link LoginThrottle.begin} let through and already counted as a
 * failure. Settle it once: a wrong password needs no call (the count stands);
 * the first call of either method wins and later calls do nothing.
 */
export interface LoginAttempt {
  /** The password was right: clear the account's failures and take back this attempt's count on the IP. */
  succeeded(): Promise<void>;
  /**
   * No verdict on the password was reached (the store failed before or while
   * it was checked): take back this attempt's count on the account and the IP,
   * so an outage never turns into failed passwords. Never rejects.
   */
  abandoned(): Promise<void>;
}

/** Outcome of {@link LoginThrottle.begin}. */
export type AttemptDecision =
  | { readonly allowed: true; readonly attempt: LoginAttempt }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Counts password attempts per account and per client IP. {@link MemoryLoginThrottle}
 * serves one process; `RedisLoginThrottle` shares the counters between instances.
 * Both apply the same rule: an attempt counts as a failure from the moment it
 * is let through (a reservation), and after the free attempts each failure
 * doubles the wait, capped at `maxDelaySeconds`. Only a password checked and
 * found wrong keeps its count: a right one is taken back, and so is one that
 * could not be judged.
 */
export interface LoginThrottle {
  /**
   * Checks and, when allowed, counts the attempt as a failure at once, before
   * the password is verified. Counting only after the slow hash would let any
   * number of parallel guesses pass the check before the first failure is
   * recorded. A wrong password needs nothing more; a right one calls
   * `attempt.succeeded()`, an attempt left without a verdict
   * `attempt.abandoned()`. Rejects with `THROTTLE_UNAVAILABLE` when the
   * counters cannot be reached: no attempt goes uncounted.
   */
  begin(account: string, ip: string): Promise<AttemptDecision>;
}

interface Counted {
  readonly entry: Entry;
  readonly version: number;
  readonly before: Readonly<Pick<Entry, 'lastFailureAt' | 'blockedUntil'>>;
}

/**
 * The key a client address is throttled under. IPv4: the address. IPv6: its
 * /64, because a single host or customer is routinely given a whole /64 and
 * could otherwise rotate through 2^64 addresses, one fresh allowance each.
 * IPv4-mapped IPv6 addresses count as the IPv4 address.
 */
export function ipThrottleKey(ip: string): string {
  const address = ip.split('%')[0] ?? ip; // drop a zone id (fe80::1%eth0)
  if (!isIPv6(address)) return ip;
  const hextets = expandIPv6(address);
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a trailing dotted IPv4 expanded). */
function expandIPv6(address: string): number[] {
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = address.indexOf('::');
  if (gap === -1) return groups(address);
  const head = groups(address.slice(0, gap));
  const tail = groups(address.slice(gap + 2));
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * Slows password guessing per account and per client IP (per /64 for IPv6). After the free
 * attempts each failure doubles the wait, capped at `maxDelaySeconds`, so a
 * lockout always ends (NIST 800-63B: no permanent lockout). Attempts refused
 * while waiting are not counted: an attacker cannot extend a victim's wait by
 * hammering, only keep it at the cap. An attempt counts as a failure from the
 * moment it is let through ({@link LoginThrottle.begin}), so parallel guesses
 * get no more tries than sequential ones.
 *
 * In memory, per process; many instances share counters through Redis instead
 * (`RedisLoginThrottle`).
 */
export class MemoryLoginThrottle implements LoginThrottle {
  readonly #clock: Clock;
  readonly #options: Required<LoginThrottleOptions>;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions, clock: Clock) {
    this.#options = { maxEntries: 100_000, ...options };
    this.#clock = clock;
  }

  /** Whether a login for `account` from `ip` may be attempted now. Counts nothing; password checks use {@link begin}. */
  check(account: string, ip: string): ThrottleDecision {
    const now = this.#clock.now();
    const waitMs = Math.max(this.#blockedFor(`a:${account}`, now), this.#blockedFor(`i:${ipThrottleKey(ip)}`, now));
    return waitMs > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(waitMs / 1000) } : { allowed: true };
  }

  /** See {@link LoginThrottle.begin}. */
  async begin(account: string, ip: string): Promise<AttemptDecision> {
    const decision = this.check(account, ip);
    if (!decision.allowed) return decision;
    const now = this.#clock.now();
    const accountKey = `a:${account}`;
    const ipKey = `i:${ipThrottleKey(ip)}`;
    const countedOnAccount = this.#fail(accountKey, this.#options.accountFreeAttempts, now);
    const countedOnIP = this.#fail(ipKey, this.#options.ipFreeAttempts, now);
    let settled = false;
    return {
      allowed: true,
      attempt: {
        succeeded: async () => {
          if (settled) return;
          settled = true;
          this.#entries.delete(accountKey);
          this.#uncount(ipKey, countedOnIP);
        },
        abandoned: async () => {
          if (settled) return;
          settled = true;
          this.#uncount(accountKey, countedOnAccount);
          this.#uncount(ipKey, countedOnIP);
        },
      },
    };
  }

  #blockedFor(key: string, now: number): number {
    const entry = this.#entries.get(key);
    return entry === undefined ? 0 : Math.max(0, entry.blockedUntil - now);
  }

  /**
   * Takes back one counted failure. When nothing was counted on the key since,
   * its block and window go back to what they were; otherwise the others'
   * counts keep their block.
   */
  #uncount(key: string, counted: Counted): void {
    const { entry } = counted;
    if (this.#entries.get(key) !== entry || entry.failures === 0) return;
    entry.failures -= 1;
    if (entry.failures === 0) {
      this.#entries.delete(key);
      return;
    }
    if (entry.version === counted.version) {
      entry.blockedUntil = counted.before.blockedUntil;
      entry.lastFailureAt = counted.before.lastFailureAt;
    }
  }

  #fail(key: string, freeAttempts: number, now: number): Counted {
    let entry = this.#entries.get(key);
    if (entry === undefined || now - entry.lastFailureAt > this.#options.failureWindowSeconds * 1000) {
      entry = { failures: 0, lastFailureAt: now, blockedUntil: 0, version: 0 };
    }
    const before = { lastFailureAt: entry.lastFailureAt, blockedUntil: entry.blockedUntil };
    entry.failures += 1;
    entry.version += 1;
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
    return { entry, version: entry.version, before };
  }
}
