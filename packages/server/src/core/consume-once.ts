/**
 * The one "consume once" primitive: anything that may be used only once
 * across every instance (an OpenID login transaction, a back-channel logout
 * token's `jti`, a login app's JWT `jti`, later DPoP proofs and HTTP message
 * signature nonces) is recorded here. With Redis it is `SET NX PX`; without,
 * a unique row in the store (SQLite or PostgreSQL). Either way exactly one of
 * any number of concurrent attempts wins, and the record outlives the value's
 * own validity, after which the value is refused for its age anyway.
 */
import { createHash } from 'node:crypto';
import type { ConsumeOnceStore } from '../store/consume-once-store.js';
import type { Clock } from './clock.js';

/** What kind of value is consumed; keeps equal ids of different kinds apart. */
export type ConsumeKind = 'oidc-transaction' | 'logout-token' | 'login-app-token' | 'oauth-code' | 'client-assertion' | (string & {});

export interface ConsumeOnce {
  /**
   * True the first time `id` of `kind` is presented; false while an earlier
   * use is remembered (until `expiresAt`, milliseconds since the epoch).
   * Rejects with a 503 `GatehouseError` when the record cannot be written:
   * callers must then refuse the value (fail closed), never accept it.
   *
   * @example
   * ```ts
   * if (!(await once.consume('logout-token', claims.jti, (claims.iat + 300) * 1000))) throw new GatehouseError('LOGOUT_TOKEN_REPLAYED');
   * ```
   */
  consume(kind: ConsumeKind, id: string, expiresAt: number): Promise<boolean>;
}

/**
 * The stored key of `id`: a hash, so that ids chosen by other parties (any
 * length, any characters) are stored at a fixed size and never as given.
 */
export function consumeKey(kind: ConsumeKind, id: string): string {
  return `${kind}:${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

/** {@link ConsumeOnce} on the store's unique rows (the embedded default, and PostgreSQL without Redis). */
export class StoreConsumeOnce implements ConsumeOnce {
  readonly #store: ConsumeOnceStore;
  readonly #clock: Clock;

  constructor(store: ConsumeOnceStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async consume(kind: ConsumeKind, id: string, expiresAt: number): Promise<boolean> {
    return this.#store.consumeOnce(consumeKey(kind, id), expiresAt, this.#clock.now());
  }
}
