/**
 * Requests per partner key in fixed windows: in this process's memory, or in
 * Redis (one count for all instances) when `redis.url` is set. Over the limit
 * is `429 PARTNER_RATE_LIMITED` with `Retry-After`; counts that cannot be kept
 * (Redis down) refuse the request (`503`), never let it through uncounted.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';

export interface PartnerRateLimitOptions {
  readonly requests: number;
  readonly windowSeconds: number;
}

/** Counts one request with the key; throws `PARTNER_RATE_LIMITED` over the limit. */
export interface PartnerRateLimiter {
  /** Returns undefined (no Promise) when it can answer at once, as the memory limiter always does. */
  hit(keyId: string): void | Promise<void>;
}

function limited(retryAfterMs: number): GatehouseError {
  return new GatehouseError('PARTNER_RATE_LIMITED', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } });
}

/** One instance's counts. Windows start at multiples of the window length, so no timer is needed. */
export class MemoryPartnerRateLimiter implements PartnerRateLimiter {
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;
  /** key id → [window start, count]; only the current window is kept. */
  readonly #counts = new Map<string, [number, number]>();
  #window = 0;

  constructor(options: PartnerRateLimitOptions, clock: Clock) {
    this.#clock = clock;
    this.#limit = options.requests;
    this.#windowMs = options.windowSeconds * 1000;
  }

  hit(keyId: string): void {
    const now = this.#clock.now();
    const window = now - (now % this.#windowMs);
    if (window !== this.#window) {
      // A new window: every earlier count is void, so the map never outgrows one window's keys.
      this.#counts.clear();
      this.#window = window;
    }
    const entry = this.#counts.get(keyId);
    const count = (entry?.[1] ?? 0) + 1;
    this.#counts.set(keyId, [window, count]);
    if (count > this.#limit) throw limited(window + this.#windowMs - now);
  }
}

/** INCR the window's counter, giving it a lifetime when it is new; returns the count and the time left. */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

/** Counts shared by every instance: one Redis key per partner key and window. */
export class RedisPartnerRateLimiter implements PartnerRateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(redis: Redis, options: PartnerRateLimitOptions & { readonly keyPrefix: string }) {
    this.#redis = redis;
    this.#prefix = `${options.keyPrefix}partner-rate:`;
    this.#limit = options.requests;
    this.#windowMs = options.windowSeconds * 1000;
  }

  async hit(keyId: string): Promise<void> {
    let result: unknown;
    try {
      result = await this.#redis.eval(HIT, 1, `${this.#prefix}${keyId}`, String(this.#windowMs));
    } catch (error) {
      throw new GatehouseError('PARTNER_RATE_LIMIT_UNAVAILABLE', { cause: error });
    }
    const [count, ttl] = Array.isArray(result) ? (result as unknown[]).map(Number) : [Number.NaN, Number.NaN];
    if (count === undefined || ttl === undefined || !Number.isFinite(count) || !Number.isFinite(ttl)) throw new GatehouseError('PARTNER_RATE_LIMIT_UNAVAILABLE');
    if (count > this.#limit) throw limited(ttl);
  }
}
