import type { Clock } from './clock.js';
import type { RevocationEvent, Store } from '../store/store.js';

/**
 * While no event has been seen yet, later reads still bound the history they
 * read by time, but generously: a day, which is how long the store keeps
 * revocation events anyway. Once an event has been seen, reads go by sequence only.
 */
const HISTORY_AFTER_START_MS = 24 * 3600 * 1000;

/** Why an otherwise valid access token is refused. */
export type RevocationStatus = 'revoked' | 'stale' | null;

export interface RevocationListOptions {
  /**
   * How long a revocation must be remembered: the longest an access token
   * issued before it can still pass its own `exp` check (lifetime + leeway).
   */
  readonly retentionMs: number;
}

/**
 * The in-memory answer to "has this session or user been revoked?", so that
 * checking an access token never waits on the database. It is filled from the
 * store's revocation events on start and kept fresh by {@link sync}; revocations
 * made by this process are applied at once.
 */
export class RevocationList {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  /** session id → when the entry may be forgotten. */
  readonly #sessions = new Map<string, number>();
  /** user id → [issued-before (seconds), forget-at (ms)]. */
  readonly #users = new Map<string, readonly [number, number]>();
  #cursor = 0;
  /** Whether the first read (at start) has happened. */
  #primed = false;
  #syncing: Promise<void> | undefined;

  constructor(store: Store, clock: Clock, options: RevocationListOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#retentionMs = options.retentionMs;
  }

  /**
   * `revoked` when the session has ended, `stale` when the user's tokens
   * issued before `iatSeconds` were invalidated (a role change), else null.
   */
  check(sessionId: string, userId: string, iatSeconds: number): RevocationStatus {
    if (this.#sessions.has(sessionId)) return 'revoked';
    const user = this.#users.get(userId);
    // NumericDate has one-second resolution: a token from the same second as
    // the change passes. Security-relevant changes also revoke sessions by id.
    if (user !== undefined && iatSeconds < user[0]) return 'stale';
    return null;
  }

  /** Records a session revocation made by this process. */
  revokeSession(sessionId: string, at: number): void {
    const forgetAt = at + this.#retentionMs;
    if ((this.#sessions.get(sessionId) ?? -Infinity) < forgetAt) this.#sessions.set(sessionId, forgetAt);
  }

  /** Records that the user's tokens issued before `at` are stale. */
  markUserStale(userId: string, at: number, rememberFrom: number = at): void {
    const issuedBefore = Math.floor(at / 1000);
    const current = this.#users.get(userId);
    if (current === undefined || current[0] < issuedBefore) this.#users.set(userId, [issuedBefore, rememberFrom + this.#retentionMs]);
  }

  /**
   * Applies one event from the store's feed. It is remembered for the full
   * retention from when this process learns of it, not from the writer's
   * timestamp: another process's clock may lag ours, and a revocation must
   * not be forgotten the moment it arrives.
   */
  apply(event: RevocationEvent): void {
    const learnedAt = Math.max(event.at, this.#clock.now());
    if (event.kind === 'session') this.revokeSession(event.sessionId, learnedAt);
    else this.markUserStale(event.userId, event.at, learnedAt);
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
    const now = this.#clock.now();
    // Only the very first read (nothing seen yet) skips old history by time. Afterwards every
    // event past the cursor counts, whatever its timestamp: a writer whose clock lags ours by
    // more than the retention would otherwise have its revocations skipped for good.
    const notBefore = this.#cursor === 0 ? now - this.#retentionMs - (this.#primed ? HISTORY_AFTER_START_MS : 0) : Number.MIN_SAFE_INTEGER;
    const events = await this.#store.listRevocations(this.#cursor, notBefore);
    for (const event of events) this.apply(event);
    this.#primed = true;
    this.#prune(now);
  }

  #prune(now: number): void {
    for (const [id, forgetAt] of this.#sessions) if (forgetAt <= now) this.#sessions.delete(id);
    for (const [id, [, forgetAt]] of this.#users) if (forgetAt <= now) this.#users.delete(id);
  }

  /** Number of remembered revocations (for metrics and tests). */
  get size(): number {
    return this.#sessions.size + this.#users.size;
  }
}
