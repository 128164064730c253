import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import type { RevocationFeed, RevocationFeedHandlers, RevocationNotice } from '../core/revocation-list.js';
import type { RedisConnections } from './connection.js';

/** How often the subscriber connection is pinged, so a silently dead link is noticed within about two intervals. */
const HEARTBEAT_MS = 1_000;

/** Reads a notice from the wire; anything else is ignored. A notice can only take access away, never grant it. */
function parseNotice(text: string): RevocationNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const { kind, sessionId, userId, version, at } = value as Record<string, unknown>;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (kind === 'session' && typeof sessionId === 'string' && sessionId.length <= 128) return { kind, sessionId, at };
  if (kind === 'user' && typeof userId === 'string' && userId.length <= 128 && typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) {
    return { kind, userId, version, at };
  }
  return null;
}

/**
 * The revocation feed over Redis pub/sub: each revocation made by an instance
 * is published on `<keyPrefix>revocations` and applied by every other instance
 * within milliseconds. Pub/sub delivers only to connected subscribers, so the
 * feed reports since when its subscription has been unbroken; the revocation
 * list trusts it only once it has also read the store after that moment.
 */
export class RedisRevocationFeed implements RevocationFeed {
  readonly #redis: RedisConnections;
  readonly #channel: string;
  readonly #logger: Logger;
  #subscribedSince: number | null = null;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(redis: RedisConnections, logger: Logger) {
    this.#redis = redis;
    this.#channel = `${redis.keyPrefix}revocations`;
    this.#logger = logger;
  }

  get subscribedSince(): number | null {
    return this.#subscribedSince;
  }

  start(handlers: RevocationFeedHandlers): void {
    const { subscriber } = this.#redis;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const notice = parseNotice(message);
      if (notice !== null) handlers.receive(notice);
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
        (error: unknown) => {
          this.#logger.warn({ err: { message: (error as Error).message } }, 'redis subscribe failed; reconnecting');
          subscriber.disconnect(true);
        },
      );
    };
    subscriber.on('ready', subscribe);
    if (subscriber.status === 'ready') subscribe();

    // A link that died without a FIN (a cut network) looks open: ping it, and start over when it does not answer.
    this.#heartbeat = setInterval(() => {
      if (this.#subscribedSince === null) return;
      subscriber.ping().catch(() => {
        if (this.#subscribedSince === null) return;
        lost();
        this.#logger.warn('redis subscriber did not answer a ping; reconnecting');
        subscriber.disconnect(true);
      });
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  publish(notice: RevocationNotice): void {
    this.#redis.commands.publish(this.#channel, JSON.stringify(notice)).catch((error: unknown) => {
      // The revocation is in the store; other instances read it there at their next poll.
      this.#logger.warn({ err: { message: (error as Error).message } }, 'could not publish a revocation to redis; other instances will read it from the store');
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#subscribedSince = null;
  }
}
