import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../core/logger.js';

/** Where Redis is and how its keys are named; see the `redis` section of the configuration. */
export interface RedisSettings {
  /** `redis://` or `rediss://` URL. May hold a password: it is never logged. */
  readonly url: string;
  /** Prefix of every key and channel Gatehouse uses. */
  readonly keyPrefix: string;
}

/** The two connections Gatehouse keeps: one for commands, one held in subscriber mode. */
export interface RedisConnections {
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly keyPrefix: string;
  /** Resolves once both connections are ready, or after `timeoutMs` (whichever is first); never rejects. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Sends what is queued, then disconnects both. */
  close(): Promise<void>;
}

/**
 * Options shared by both connections. No offline queue: a command issued while
 * Redis is unreachable fails at once instead of waiting for a reconnect, so a
 * login answers 503 promptly rather than hanging. Reconnection never stops
 * (every 100 ms growing to 1 s), so Gatehouse recovers by itself.
 */
const CONNECTION_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  commandTimeout: 2_000,
  retryStrategy: (times: number) => Math.min(times * 100, 1_000),
  // The feed subscribes on every `ready` itself, and catches up from the store before trusting the subscription.
  autoResubscribe: false,
};

/** Opens the command and subscriber connections. Errors are logged without the URL (it may hold a password). */
export function openRedis(settings: RedisSettings, logger: Logger): RedisConnections {
  const open = (role: 'commands' | 'subscriber'): Redis => {
    const client = new Redis(settings.url, { ...CONNECTION_OPTIONS, connectionName: `gatehouse-${role}` });
    let down = false;
    client.on('error', (error: Error) => {
      // One line per outage, not one per reconnection attempt.
      if (!down) logger.error({ redis: role, err: { message: error.message, code: (error as NodeJS.ErrnoException).code } }, 'redis connection lost');
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.info({ redis: role }, 'redis connection restored');
      down = false;
    });
    return client;
  };
  const commands = open('commands');
  const subscriber = open('subscriber');
  // Not events.once: it would reject on the first connection error instead of waiting for the retry.
  const isReady = (client: Redis): Promise<void> =>
    client.status === 'ready' ? Promise.resolve() : new Promise((resolve) => client.once('ready', () => resolve()));

  return {
    commands,
    subscriber,
    keyPrefix: settings.keyPrefix,
    async ready(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([Promise.all([isReady(commands), isReady(subscriber)]).then(() => true), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.all(
        [commands, subscriber].map(async (client) => {
          if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
          else client.disconnect();
        }),
      );
    },
  };
}
