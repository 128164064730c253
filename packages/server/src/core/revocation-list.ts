import type { Clock } from './clock.js';
import type { RevocationEvent, Store } from '../store/store.js';

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
    this.#sessions.set(sessionId, at + this.#retentionMs);
  }

  /** Records that the user's tokens issued before `at` are stale. */
  markUserStale(userId: string, at: number): void {
    const issuedBefore = Math.floor(at / 1000);
    const current = this.#users.get(userId);
    if (current === undefined || current[0] < issuedBefore) this.#users.set(userId, [issuedBefore, at + this.#retentionMs]);
  }

  /** Applies one event from the store's feed. */
  apply(event: RevocationEvent): void {
    if (event.kind === 'session') this.revokeSession(event.sessionId, event.at);
    else this.markUserStale(event.userId, event.at);
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
    const events = await this.#store.listRevocations(this.#cursor, now - this.#retentionMs);
    for (const event of events) this.apply(event);
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
