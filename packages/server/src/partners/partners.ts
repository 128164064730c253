/**
 * Partner keys as a running Gatehouse holds them: the admin operations
 * (always), and, with `partners.enabled`, the in-memory key registry kept
 * current from the store and the Redis feed. The registry's modules (and
 * the feed) are loaded only for a configuration that enables partners.
 */
import type { GatehouseConfig } from '../config/resolve.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { RedisConnections } from '../redis/connection.js';
import type { Store } from '../store/store.js';
import { PartnerAdmin } from './partner-admin.js';
import type { PartnerRegistry } from './partner-registry.js';

export interface PartnerServices {
  readonly admin: PartnerAdmin;
  /** The key registry; null unless `partners.enabled`. */
  readonly registry: PartnerRegistry | null;
  /** Stops polling and the feed. */
  close(): Promise<void>;
}

export interface PartnerServicesOptions {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly redis: RedisConnections | undefined;
  readonly syncIntervalMs: number;
}

/**
 * Builds the partner services. With `partners.enabled`, reads every key from
 * the store before resolving (a start that cannot read them fails, as for
 * revocations) and keeps reading the change log.
 */
export async function openPartnerServices(options: PartnerServicesOptions): Promise<PartnerServices> {
  const { config, store, clock, logger, redis } = options;
  const feed = redis === undefined ? undefined : new (await import('./partner-feed.js')).RedisPartnerKeyFeed(redis, logger);
  if (!config.partners.enabled) {
    // Still tell running instances (which may enable partners) about revocations made here, such as by the CLI.
    return { admin: new PartnerAdmin(store, clock, (keyId) => feed?.publishRevoked(keyId)), registry: null, close: async () => undefined };
  }
  const { PartnerRegistry } = await import('./partner-registry.js');
  const registry = new PartnerRegistry(store, clock, {
    maxStalenessMs: config.revocation.maxStalenessSeconds * 1000,
    ...(feed === undefined ? {} : { feed }),
  });
  try {
    await registry.sync();
  } catch (error) {
    await registry.close();
    throw error;
  }
  const stopPolling = registry.startPolling({ intervalMs: options.syncIntervalMs, logger });
  return {
    admin: new PartnerAdmin(store, clock, (keyId) => registry.revoked(keyId)),
    registry,
    async close() {
      stopPolling();
      await registry.close();
    },
  };
}
