/**
 * Partner keys as a running Gatehouse holds them: the admin operations
 * (always), and, with `partners.enabled`, the in-memory key registry kept
 * current from the store and the Redis feed. The registry's modules (and
 * the feed) are loaded only for a configuration that enables partners.
 */
import type { GatehouseConfig } from '../config/resolve.js';
import type { Clock } from '../core/clock.js';
import type { KeyRing } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { RedisConnections } from '../redis/connection.js';
import type { Store } from '../store/store.js';
import { PartnerAdmin } from './partner-admin.js';
import type { PartnerGate } from './partner-gate.js';
import type { PartnerRegistry } from './partner-registry.js';

/** The path of the partner CSRF endpoint (see `PartnerGate.csrfEndpoint`). */
export const PARTNER_CSRF_PATH = '/auth/partner/csrf';

export interface PartnerServices {
  readonly admin: PartnerAdmin;
  /** The key registry; null unless `partners.enabled`. */
  readonly registry: PartnerRegistry | null;
  /** What the partner guards run; null unless `partners.enabled`. */
  readonly gate: PartnerGate | null;
  /** Stops polling and the feed. */
  close(): Promise<void>;
}

export interface PartnerServicesOptions {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly redis: RedisConnections | undefined;
  readonly keys: KeyRing;
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
    return { admin: new PartnerAdmin(store, clock, (keyId) => feed?.publishRevoked(keyId)), registry: null, gate: null, close: async () => undefined };
  }
  const [{ PartnerRegistry }, { PartnerGate }, { PartnerCSRF }, limits] = await Promise.all([
    import('./partner-registry.js'),
    import('./partner-gate.js'),
    import('./partner-csrf.js'),
    import('./partner-rate-limit.js'),
  ]);
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
  const { rateLimit } = config.partners;
  const limiter =
    redis === undefined
      ? new limits.MemoryPartnerRateLimiter(rateLimit, clock)
      : new limits.RedisPartnerRateLimiter(redis.commands, { ...rateLimit, keyPrefix: redis.keyPrefix });
  const csrf = new PartnerCSRF(options.keys.partnerCSRF, { secure: config.cookies.secure });
  return {
    admin: new PartnerAdmin(store, clock, (keyId) => registry.revoked(keyId), () => registry.sync()),
    registry,
    gate: new PartnerGate({ registry, limiter, csrf, logger }),
    async close() {
      stopPolling();
      await registry.close();
    },
  };
}

/** The gate of enabled partner services; a `TypeError` at build time otherwise, so no route pretends to check keys. */
export function partnerGateOf(partners: PartnerServices): PartnerGate {
  if (partners.gate === null) throw new TypeError('partners.enabled is false: enable the partners section to build a partner guard (docs/machine-access.md)');
  return partners.gate;
}
