import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { RevocationEvent, Store } from '../store/store.js';

/**
 * While no event has been seen yet, later reads still bound the history they
 * read by time, but generously: a day, which is how long the store keeps
 * revocation events anyway. Once an event has been seen, reads go by sequence only.
 */
const HISTORY_AFTER_START_MS = 24 * 3600 * 1000;

/**
 * Why an otherwise valid access token is refused: `revoked` (the session
 * ended), `stale` (the user changed since it was issued: it describes an older
 * user version), or
 * `unverifiable` (the list has not been confirmed current for longer than
 * `maxStalenessMs`, so a revocation made elsewhere could be missing).
 */
export type RevocationStatus = 'revoked' | 'stale' | 'unverifiable' | null;

/**
 * A revocation as instances tell each other about it (no store sequence
 * number). A `user` notice says the user is now at `version`: access tokens
 * describing an older version are stale.
 */
export type RevocationNotice =
  | { readonly kind: 'session'; readonly sessionId: string; readonly at: number }
  | { readonly kind: 'user'; readonly userId: string; readonly version: number; readonly at: number };

/** What a {@link RevocationFeed} calls back. */
export interface RevocationFeedHandlers {
  /** A notice from another instance (or this one's own, echoed). */
  receive(notice: RevocationNotice): void;
  /** The subscription has just been (re)established: read the store now to catch up. */
  subscribed(): void;
  /** The subscription broke: notices may be missed from now on, so poll the store at the catch-up rate. */
  lost(): void;
}

/**
 * Carries revocations between instances as they happen (Redis pub/sub). The
 * store stays the record: a feed is only ever a faster way to learn of them.
 */
export interface RevocationFeed {
  /** Tells every instance. Best effort: a failure is logged and the others read the store. */
  publish(notice: RevocationNotice): void;
  start(handlers: RevocationFeedHandlers): void;
  /** `performance.now()` since which the subscription has been unbroken; null while it is down. */
  readonly subscribedSince: number | null;
  close(): Promise<void>;
}

export interface RevocationListOptions {
  /**
   * How long a revocation must be remembered: the longest an access token
   * issued before it can still pass its own `exp` check (lifetime + leeway).
   */
  readonly retentionMs: number;
  /**
   * After this long without confirming the list is current (a successful store
   * read, or an unbroken feed), {@link RevocationList.check} answers
   * `unverifiable`. Default: never.
   */
  readonly maxStalenessMs?: number;
  readonly feed?: RevocationFeed;
  /** Monotonic milliseconds for staleness (default `performance.now`); the wall clock may jump. */
  readonly monotonicNow?: () => number;
}

/** How often to read the store while a configured feed is down: fast enough to keep the feed's promise. */
const CATCH_UP_INTERVAL_MS = 50;

/**
 * The in-memory answer to "has this session or user been revoked?", so that
 * checking an access token never waits on the database. It is filled from the
 * store's revocation events on start and kept fresh by {@link sync} (polling);
 * revocations made by this process are applied at once and, with a
 * {@link RevocationFeed}, reach every other instance within milliseconds.
 *
 * The list knows how current it is: it is confirmed up to the start of its
 * last successful store read, or up to now while the feed's subscription has
 * been unbroken since before that read. Past `maxStalenessMs` it stops
 * vouching for tokens (fails closed) until a read succeeds again.
 */
export class RevocationList {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  /** session id → when the entry may be forgotten. */
  readonly #sessions = new Map<string, number>();
  /** user id → [the oldest user version still valid, forget-at (ms)]. */
  readonly #users = new Map<string, readonly [number, number]>();
  #cursor = 0;
  /** Whether the first read (at start) has happened. */
  #primed = false;
  #syncing: Promise<void> | undefined;
  readonly #maxStalenessMs: number;
  readonly #feed: RevocationFeed | undefined;
  readonly #monotonicNow: () => number;
  /** Monotonic start time of the last successful store read. */
  #syncedAt = -Infinity;
  /** Runs the poller's next read now (set while polling). */
  #wake: (() => void) | undefined;

  constructor(store: Store, clock: Clock, options: RevocationListOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#retentionMs = options.retentionMs;
    this.#maxStalenessMs = options.maxStalenessMs ?? Infinity;
    this.#feed = options.feed;
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.#feed?.start({
      receive: (notice) => this.#record(notice, this.#clock.now()),
      subscribed: () => {
        // Whatever was published while the subscription was down is in the store: read it now.
        if (this.#wake !== undefined) this.#wake();
        else this.sync().catch(() => undefined);
      },
      lost: () => this.#wake?.(),
    });
  }

  /**
   * Whether every revocation up to now is known here: the feed has been
   * subscribed without a break since before the last store read began.
   */
  get live(): boolean {
    const since = this.#feed?.subscribedSince;
    return since !== null && since !== undefined && this.#syncedAt >= since;
  }

  /** Whether the list is recent enough to vouch for tokens (see `maxStalenessMs`). */
  get current(): boolean {
    return this.live || this.#monotonicNow() - this.#syncedAt <= this.#maxStalenessMs;
  }

  /**
   * `revoked` when the session has ended, `stale` when the user has changed
   * (roles, password, disabled) since the user version the token describes,
   * else null (or `unverifiable`, see `maxStalenessMs`).
   *
   * Versions, not times: a token names the exact state of the user its roles
   * were read from, so a change can never tie with an issuance in the same
   * second (or millisecond), and clocks of different instances do not matter.
   */
  check(sessionId: string, userId: string, userVersion: number): RevocationStatus {
    if (this.#sessions.has(sessionId)) return 'revoked';
    const user = this.#users.get(userId);
    if (user !== undefined && userVersion < user[0]) return 'stale';
    return this.current ? null : 'unverifiable';
  }

  /** Records a session revocation made by this process (already in the store) and tells the other instances. */
  revokeSession(sessionId: string, at: number): void {
    const notice: RevocationNotice = { kind: 'session', sessionId, at };
    this.#record(notice, at);
    this.#feed?.publish(notice);
  }

  /**
   * Records that the user is now at `version` (a change this process made, already
   * in the store), so tokens describing an older version are stale, and tells the
   * other instances.
   */
  markUserChanged(userId: string, version: number, at: number): void {
    const notice: RevocationNotice = { kind: 'user', userId, version, at };
    this.#record(notice, at);
    this.#feed?.publish(notice);
  }

  /** Remembers a revocation from `rememberFrom` on for the retention period. */
  #record(notice: RevocationNotice, rememberFrom: number): void {
    const forgetAt = Math.max(notice.at, rememberFrom) + this.#retentionMs;
    if (notice.kind === 'session') {
      if ((this.#sessions.get(notice.sessionId) ?? -Infinity) < forgetAt) this.#sessions.set(notice.sessionId, forgetAt);
      return;
    }
    const current = this.#users.get(notice.userId);
    if (current === undefined || current[0] < notice.version) this.#users.set(notice.userId, [notice.version, forgetAt]);
    else if (current[0] === notice.version && current[1] < forgetAt) this.#users.set(notice.userId, [notice.version, forgetAt]);
  }

  /**
   * Applies one event from the store's feed. It is remembered for the full
   * retention from when this process learns of it, not from the writer's
   * timestamp: another process's clock may lag ours, and a revocation must
   * not be forgotten the moment it arrives.
   */
  apply(event: RevocationEvent): void {
    this.#record(event, this.#clock.now());
    if (event.seq > this.#cursor) this.#cursor = event.seq;
  }

  /**
   * Reads revocations recorded since the last sync (by any process sharing
   * the store, such as the CLI) and forgets entries that no token can need.
   * Concurrent calls share one read.
   */
  sync(): Promise<void> {
    this.#syncing ??= this.#pull().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #pull(): Promise<void> {
    const startedAt = this.#monotonicNow();
    const now = this.#clock.now();
    // Only the very first read (nothing seen yet) skips old history by time. Afterwards every
    // event past the cursor counts, whatever its timestamp: a writer whose clock lags ours by
    // more than the retention would otherwise have its revocations skipped for good.
    const notBefore = this.#cursor === 0 ? now - this.#retentionMs - (this.#primed ? HISTORY_AFTER_START_MS : 0) : Number.MIN_SAFE_INTEGER;
    const events = await this.#store.listRevocations(this.#cursor, notBefore);
    for (const event of events) this.apply(event);
    this.#primed = true;
    this.#syncedAt = Math.max(this.#syncedAt, startedAt);
    this.#prune(now);
  }

  /**
   * Reads the store every `intervalMs`, or every 50 ms while a configured feed
   * is down, so that revocations from other processes still arrive promptly.
   * Logs failures, and when the list stops (or starts again) vouching for
   * tokens. Returns a function that stops polling.
   */
  startPolling(options: { readonly intervalMs: number; readonly logger: Logger }): () => void {
    const { logger } = options;
    let stopped = false;
    let running = false;
    let wakeRequested = false;
    let timer: NodeJS.Timeout | undefined;
    let wasCurrent = true;
    let wasLive = false;
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
        logger.warn({ err: error }, 'revocation sync failed; keeping the last known list');
      }
      running = false;
      const live = this.live;
      if (this.#feed !== undefined && live !== wasLive) {
        if (live) logger.info('revocation feed live: caught up from the store since the subscription began');
        else logger.warn('revocation feed down: reading the store every 50 ms until it is back');
      }
      wasLive = live;
      const current = this.current;
      if (wasCurrent && !current) logger.error({ maxStalenessMs: this.#maxStalenessMs }, 'revocation list is stale: refusing access tokens (503 REVOCATION_UNAVAILABLE) until the store can be read');
      else if (!wasCurrent && current) logger.info('revocation list is current again');
      wasCurrent = current;
      if (stopped) return;
      const catchingUp = this.#feed !== undefined && !live;
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

  #prune(now: number): void {
    for (const [id, forgetAt] of this.#sessions) if (forgetAt <= now) this.#sessions.delete(id);
    for (const [id, [, forgetAt]] of this.#users) if (forgetAt <= now) this.#users.delete(id);
  }

  /** Stops listening to the feed. */
  async close(): Promise<void> {
    await this.#feed?.close();
  }

  /** Number of remembered revocations (for metrics and tests). */
  get size(): number {
    return this.#sessions.size + this.#users.size;
  }
}
