import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ipThrottleKey, type AttemptDecision, type LoginThrottle, type LoginThrottleOptions } from '../core/login-throttle.js';

/**
 * One entry is a hash: f = failures, l = last failure (ms), b = blocked until (ms),
 * v = version (bumped by every counted failure), g = generation (a nonce set when
 * the entry starts afresh, so a late success cannot take back a count from a newer entry).
 * The rule is {@link MemoryLoginThrottle}'s, step for step; being one script, it runs
 * atomically however many instances call it at once.
 *
 * KEYS: account, ip. ARGV: now, account free attempts, ip free attempts,
 * window ms, max delay s, key ttl ms, nonce.
 * Returns {0, wait ms} when refused, or {1, then generation, version, l before, b before
 * of the account's entry, then the same four of the IP's}.
 */
const BEGIN = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[4])
local maxDelay = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local function blockedFor(key)
  local b = tonumber(redis.call('HGET', key, 'b'))
  if b == nil then return 0 end
  return math.max(0, b - now)
end
local wait = math.max(blockedFor(KEYS[1]), blockedFor(KEYS[2]))
if wait > 0 then return {0, wait} end
local function fail(key, free)
  local e = redis.call('HMGET', key, 'f', 'l', 'b', 'v', 'g')
  local f, l, b, v, g = tonumber(e[1]), tonumber(e[2]), tonumber(e[3]), tonumber(e[4]), e[5]
  if f == nil or now - l > window then
    f, l, b, v, g = 0, now, 0, 0, ARGV[7]
  end
  local beforeL, beforeB = l, b
  f = f + 1
  v = v + 1
  if f >= free then
    b = now + math.min(2 ^ math.min(f - free, 30), maxDelay) * 1000
  end
  redis.call('HSET', key, 'f', f, 'l', now, 'b', b, 'v', v, 'g', g)
  redis.call('PEXPIRE', key, ttl)
  return {g, v, beforeL, beforeB}
end
local account = fail(KEYS[1], tonumber(ARGV[2]))
local ip = fail(KEYS[2], tonumber(ARGV[3]))
return {1, account[1], account[2], account[3], account[4], ip[1], ip[2], ip[3], ip[4]}
`;

/**
 * Takes back one counted failure from an entry, unless the entry has started
 * afresh since (another generation). When nobody counted on it since (same
 * version), its window and block go back to what they were before the count;
 * otherwise the later counts keep theirs.
 */
const UNCOUNT = `
local function uncount(key, g, v, l, b)
  local e = redis.call('HMGET', key, 'f', 'v', 'g')
  local f = tonumber(e[1])
  if f == nil or f == 0 or e[3] ~= g then return end
  if f == 1 then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'f', f - 1)
  if tonumber(e[2]) == tonumber(v) then
    redis.call('HSET', key, 'l', l, 'b', b)
  end
end
`;

/**
 * A correct password: forget the account's failures and take back this attempt's count on the IP.
 * KEYS: account, ip. ARGV: the IP's generation, version, l before, b before.
 */
const SUCCEEDED = `${UNCOUNT}
redis.call('DEL', KEYS[1])
uncount(KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/**
 * No verdict on the password: take back this attempt's count on the account and on the IP.
 * KEYS: account, ip. ARGV: the account's generation, version, l before, b before, then the IP's.
 */
const ABANDONED = `${UNCOUNT}
uncount(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
uncount(KEYS[2], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return 1
`;

/** Generation, version, last failure before, blocked-until before: what taking the count back needs. */
type Counted = [string, number, number, number];
type BeginReply = [0, number] | [1, ...Counted, ...Counted];

interface ThrottleCommands {
  gatehouseThrottleBegin(account: string, ip: string, ...args: (string | number)[]): Promise<BeginReply>;
  gatehouseThrottleSucceeded(account: string, ip: string, ...args: (string | number)[]): Promise<number>;
  gatehouseThrottleAbandoned(account: string, ip: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * {@link LoginThrottle} with its counters in Redis, shared by every instance.
 * Each attempt is one Lua script (check and count together), so 50 parallel
 * guesses spread over any number of instances get exactly the free attempts,
 * no more. When Redis cannot be reached it refuses with `THROTTLE_UNAVAILABLE`
 * (503) rather than letting an uncounted guess through. Entries expire on their
 * own once neither their window nor their block can matter.
 */
export class RedisLoginThrottle implements LoginThrottle {
  readonly #redis: Redis & ThrottleCommands;
  readonly #prefix: string;
  readonly #options: LoginThrottleOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(redis: Redis, options: LoginThrottleOptions & { readonly keyPrefix: string; readonly logger: Logger }, clock: Clock) {
    redis.defineCommand('gatehouseThrottleBegin', { numberOfKeys: 2, lua: BEGIN });
    redis.defineCommand('gatehouseThrottleSucceeded', { numberOfKeys: 2, lua: SUCCEEDED });
    redis.defineCommand('gatehouseThrottleAbandoned', { numberOfKeys: 2, lua: ABANDONED });
    this.#redis = redis as Redis & ThrottleCommands;
    this.#prefix = `${options.keyPrefix}throttle:`;
    this.#options = options;
    this.#clock = clock;
    this.#logger = options.logger;
  }

  async begin(account: string, ip: string): Promise<AttemptDecision> {
    const { accountFreeAttempts, ipFreeAttempts, failureWindowSeconds, maxDelaySeconds } = this.#options;
    const accountKey = `${this.#prefix}a:${account}`;
    const ipKey = `${this.#prefix}i:${ipThrottleKey(ip)}`;
    const windowMs = failureWindowSeconds * 1000;
    let reply: BeginReply;
    try {
      reply = await this.#redis.gatehouseThrottleBegin(
        accountKey,
        ipKey,
        this.#clock.now(),
        accountFreeAttempts,
        ipFreeAttempts,
        windowMs,
        maxDelaySeconds,
        windowMs + maxDelaySeconds * 1000,
        randomBytes(9).toString('base64url'),
      );
    } catch (error) {
      throw new GatehouseError('THROTTLE_UNAVAILABLE', { cause: error });
    }
    if (reply[0] === 0) return { allowed: false, retryAfterSeconds: Math.ceil(reply[1] / 1000) };
    const [, accountGeneration, accountVersion, accountLastBefore, accountBlockedBefore, ...countedOnIP] = reply;
    const countedOnAccount: Counted = [accountGeneration, accountVersion, accountLastBefore, accountBlockedBefore];
    let settled = false;
    const settle = async (what: string, run: () => Promise<number>): Promise<void> => {
      if (settled) return;
      settled = true;
      try {
        await run();
      } catch (error) {
        // Nothing to undo on our side: the counts stay until their window passes, which only errs on the strict side.
        this.#logger.warn({ err: { message: (error as Error).message } }, `could not ${what} in redis`);
      }
    };
    return {
      allowed: true,
      attempt: {
        // The password was right and the session exists: the sign-in stands even if this fails.
        succeeded: () => settle('clear login failures', () => this.#redis.gatehouseThrottleSucceeded(accountKey, ipKey, ...countedOnIP)),
        abandoned: () => settle('take back an unjudged login attempt', () => this.#redis.gatehouseThrottleAbandoned(accountKey, ipKey, ...countedOnAccount, ...countedOnIP)),
      },
    };
  }
}
