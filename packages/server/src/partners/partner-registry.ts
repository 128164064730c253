/**
 * Every instance's in-memory view of partner keys, so that checking a key
 * never waits on the database. Built like the revocation list: filled from
 * the store's change log at start, kept fresh by polling it, and told of
 * revocations within milliseconds by the Redis feed when there is one. It
 * knows how current it is and, past `maxStalenessMs`, answers
 * `PARTNER_KEYS_UNAVAILABLE` instead of vouching for any key (fail closed:
 * a revocation made elsewhere could be missing).
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { PartnerKeyKind, PartnerKeyRecord, PartnerRecord, Store } from '../store/store.js';
import type { PartnerKeyFeed } from './partner-feed.js';
import { partnerKeyMatches, type PresentedPartnerKey } from './partner-key.js';

/** Who is calling with a valid key: what the guards hand to handlers. */
export interface PartnerIdentity {
  readonly partnerId: string;
  readonly partnerName: string;
  readonly keyId: string;
  readonly keyKind: PartnerKeyKind;
  readonly scopes: readonly string[];
  /** The partner's registered origins (a publishable key's request came from one of them). */
  readonly origins: readonly string[];
}

export type PartnerKeyVerdict =
  | { readonly ok: true; readonly partner: PartnerIdentity }
  | { readonly ok: false; readonly code: 'PARTNER_KEY_INVALID' | 'PARTNER_KEYS_UNAVAILABLE' };

export interface PartnerRegistryOptions {
  /** Past this long without confirming the view is current, no key is accepted. */
  readonly maxStalenessMs: number;
  readonly feed?: PartnerKeyFeed;
  /** Monotonic milliseconds for staleness (default `performance.now`). */
  readonly monotonicNow?: () => number;
}

/** How often to read the store while a configured feed is down. */
const CATCH_UP_INTERVAL_MS = 50;

const INVALID = { ok: false, code: 'PARTNER_KEY_INVALID' } as const;
const UNAVAILABLE = { ok: false, code: 'PARTNER_KEYS_UNAVAILABLE' } as const;

export class PartnerRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #maxStalenessMs: number;
  readonly #feed: PartnerKeyFeed | undefined;
  readonly #monotonicNow: () => number;
  /** key id → the key and the identity it grants. */
  readonly #keys = new Map<string, { readonly key: PartnerKeyRecord; readonly identity: PartnerIdentity }>();
  /** partner id → its key ids, to drop them when the partner changes. */
  readonly #partnerKeys = new Map<string, readonly string[]>();
  /** origin → ids of publishable keys whose partner registered it, so a preflight looks at those keys only. */
  readonly #publishableByOrigin = new Map<string, Set<string>>();
  /** Keys the feed reported revoked, refused even before the store read confirms it. */
  readonly #revoked = new Set<string>();
  #cursor = 0;
  #syncedAt = -Infinity;
  #syncing: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(store: Store, clock: Clock, options: PartnerRegistryOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#maxStalenessMs = options.maxStalenessMs;
    this.#feed = options.feed;
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#feed?.start({
      revoked: (keyId) => {
        this.#revoked.add(keyId);
        this.#wake?.();
      },
      subscribed: () => (this.#wake !== undefined ? this.#wake() : void this.sync().catch(() => undefined)),
      lost: () => this.#wake?.(),
    });
  }

  /** Whether every change up to now is known: the feed has been unbroken since before the last store read began. */
  get live(): boolean {
    const since = this.#feed?.subscribedSince;
    return since !== null && since !== undefined && this.#syncedAt >= since;
  }

  /** Whether the view is recent enough to vouch for keys. */
  get current(): boolean {
    return this.live || this.#monotonicNow() - this.#syncedAt <= this.#maxStalenessMs;
  }

  /**
   * The identity a presented key grants, or why not. Unknown, revoked,
   * rotated out (past the overlap), of another kind than its prefix says, or
   * not matching its hash: all `PARTNER_KEY_INVALID`, so a caller learns
   * nothing about which keys exist.
   */
  verify(presented: PresentedPartnerKey): PartnerKeyVerdict {
    if (!this.current) return UNAVAILABLE;
    const entry = this.#keys.get(presented.id);
    if (entry === undefined || this.#revoked.has(presented.id)) return INVALID;
    const { key } = entry;
    if (key.kind !== presented.kind || key.revokedAt !== null) return INVALID;
    if (key.expiresAt !== null && key.expiresAt <= this.#clock.now()) return INVALID;
    return partnerKeyMatches(presented.value, key.hash) ? { ok: true, partner: entry.identity } : INVALID;
  }

  /**
   * Whether any partner with a publishable key that works now registered
   * `origin`: what a CORS preflight (which carries no key) is answered by.
   */
  allowsOrigin(origin: string): boolean {
    if (!this.current) return false;
    const now = this.#clock.now();
    for (const id of this.#publishableByOrigin.get(origin) ?? []) {
      const key = this.#keys.get(id)?.key;
      if (key === undefined || key.revokedAt !== null || this.#revoked.has(id)) continue;
      if (key.expiresAt === null || key.expiresAt > now) return true;
    }
    return false;
  }

  /** A revocation this process made (already in the store): refused here at once, and told to every instance. */
  revoked(keyId: string): void {
    this.#revoked.add(keyId);
    this.#feed?.publishRevoked(keyId);
  }

  /** Reads the changes since the last read. Concurrent calls share one read. */
  sync(): Promise<void> {
    this.#syncing ??= this.#pull().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #pull(): Promise<void> {
    const startedAt = this.#monotonicNow();
    const changes = await this.#store.listPartnerChanges(this.#cursor);
    for (const partner of changes.partners) this.#apply(partner);
    this.#cursor = changes.seq;
    this.#syncedAt = Math.max(this.#syncedAt, startedAt);
  }

  #apply(partner: PartnerRecord): void {
    for (const id of this.#partnerKeys.get(partner.id) ?? []) {
      for (const origin of this.#keys.get(id)?.identity.origins ?? []) {
        const ids = this.#publishableByOrigin.get(origin);
        ids?.delete(id);
        if (ids?.size === 0) this.#publishableByOrigin.delete(origin);
      }
      this.#keys.delete(id);
    }
    const ids: string[] = [];
    for (const key of partner.keys) {
      if (key.kind === 'publishable' && key.revokedAt === null) {
        for (const origin of partner.origins) {
          const forOrigin = this.#publishableByOrigin.get(origin) ?? new Set<string>();
          forOrigin.add(key.id);
          this.#publishableByOrigin.set(origin, forOrigin);
        }
      }
      // Revoked keys stay known (and refused), so a late feed notice has nothing to add.
      ids.push(key.id);
      this.#keys.set(key.id, {
        key,
        identity: { partnerId: partner.id, partnerName: partner.name, keyId: key.id, keyKind: key.kind, scopes: partner.scopes, origins: partner.origins },
      });
    }
    this.#partnerKeys.set(partner.id, ids);
  }

  /**
   * Reads the store every `intervalMs`, or every 50 ms while a configured feed
   * is down. Logs failures and when the view stops (or starts again) vouching
   * for keys. Returns a function that stops polling.
   */
  startPolling(options: { readonly intervalMs: number; readonly logger: Logger }): () => void {
    const { logger } = options;
    let stopped = false;
    let running = false;
    let wakeRequested = false;
    let timer: NodeJS.Timeout | undefined;
    let wasCurrent = true;
    const schedule = (delayMs: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void tick(), delayMs);
      timer.unref();
    };
    const tick = async (): Promise<void> => {
      running = true;
      wakeRequested = false;
      try {
        await this.sync();
      } catch (error) {
        logger.warn({ err: error }, 'partner key sync failed; keeping the last known keys');
      }
      running = false;
      const current = this.current;
      if (wasCurrent && !current) logger.error('partner keys are stale: refusing partner requests (503 PARTNER_KEYS_UNAVAILABLE) until the store can be read');
      else if (!wasCurrent && current) logger.info('partner keys are current again');
      wasCurrent = current;
      if (stopped) return;
      const catchingUp = this.#feed !== undefined && !this.live;
      schedule(wakeRequested ? 0 : catchingUp ? Math.min(CATCH_UP_INTERVAL_MS, options.intervalMs) : options.intervalMs);
    };
    schedule(0);
    this.#wake = () => {
      if (stopped) return;
      if (running) wakeRequested = true;
      else schedule(0);
    };
    return () => {
      stopped = true;
      this.#wake = undefined;
      clearTimeout(timer);
    };
  }

  async close(): Promise<void> {
    await this.#feed?.close();
  }
}
