/**
 * Carries partner-key revocations between instances as they happen (Redis
 * pub/sub). The store's change log stays the record: the feed is only ever a
 * faster way to learn of a change, and a notice can only take access away.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import type { RedisConnections } from '../redis/connection.js';

/** What a {@link PartnerKeyFeed} calls back. */
export interface PartnerKeyFeedHandlers {
  /** Another instance (or this one, echoed) revoked the key with this id. */
  revoked(keyId: string): void;
  /** The subscription has just been (re)established: read the store now to catch up. */
  subscribed(): void;
  /** The subscription broke: read the store at the catch-up rate until it is back. */
  lost(): void;
}

export interface PartnerKeyFeed {
  /** Tells every instance. Best effort: the others read the store's change log anyway. */
  publishRevoked(keyId: string): void;
  start(handlers: PartnerKeyFeedHandlers): void;
  /** `performance.now()` since which the subscription has been unbroken; null while it is down. */
  readonly subscribedSince: number | null;
  close(): Promise<void>;
}

const KEY_ID = /^[0-9a-f]{24}$/;

/**
 * The feed on `<keyPrefix>partner-keys`, on the subscriber connection the
 * revocation feed also uses (whose heartbeat notices a dead link and
 * reconnects it; this feed follows the connection's state).
 */
export class RedisPartnerKeyFeed implements PartnerKeyFeed {
  readonly #redis: RedisConnections;
  readonly #channel: string;
  readonly #logger: Logger;
  #subscribedSince: number | null = null;

  constructor(redis: RedisConnections, logger: Logger) {
    this.#redis = redis;
    this.#channel = `${redis.keyPrefix}partner-keys`;
    this.#logger = logger;
  }

  get subscribedSince(): number | null {
    return this.#subscribedSince;
  }

  start(handlers: PartnerKeyFeedHandlers): void {
    const { subscriber } = this.#redis;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel && KEY_ID.test(message)) handlers.revoked(message);
    });
    const lost = (): void => {
      if (this.#subscribedSince === null) return;
      this.#subscribedSince = null;
      handlers.lost();
    };
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    const subscribe = (): void => {
      subscriber.subscribe(this.#channel).then(
        () => {
          this.#subscribedSince = performance.now();
          handlers.subscribed();
        },
        (error: unknown) => this.#logger.warn({ err: { message: (error as Error).message } }, 'redis subscribe to partner-key changes failed'),
      );
    };
    subscriber.on('ready', subscribe);
    if (subscriber.status === 'ready') subscribe();
  }

  publishRevoked(keyId: string): void {
    this.#redis.commands.publish(this.#channel, keyId).catch((error: unknown) => {
      this.#logger.warn({ err: { message: (error as Error).message } }, 'could not publish a partner-key revocation to redis; other instances will read it from the store');
    });
  }

  async close(): Promise<void> {
    this.#subscribedSince = null;
  }
}
