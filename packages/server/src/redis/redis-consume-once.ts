import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.js';
import { consumeKey, type ConsumeKind, type ConsumeOnce } from '../core/consume-once.js';
import { GatehouseError } from '../core/errors.js';

/**
 * {@link ConsumeOnce} on Redis: `SET <prefix>once:<key> 1 NX PX <ttl>`, one
 * atomic command shared by every instance; Redis forgets the key when the
 * value has expired anyway. When Redis cannot answer, nothing is accepted
 * (503 `REPLAY_CHECK_UNAVAILABLE`).
 */
export class RedisConsumeOnce implements ConsumeOnce {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #clock: Clock;

  constructor(redis: Redis, options: { readonly keyPrefix: string }, clock: Clock) {
    this.#redis = redis;
    this.#prefix = `${options.keyPrefix}once:`;
    this.#clock = clock;
  }

  async consume(kind: ConsumeKind, id: string, expiresAt: number): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(expiresAt - this.#clock.now()));
    let answer: string | null;
    try {
      answer = await this.#redis.set(`${this.#prefix}${consumeKey(kind, id)}`, '1', 'PX', ttlMs, 'NX');
    } catch (error) {
      throw new GatehouseError('REPLAY_CHECK_UNAVAILABLE', { cause: error });
    }
    return answer === 'OK';
  }
}
