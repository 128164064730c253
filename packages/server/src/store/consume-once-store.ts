/**
 * The consume-once part of the storage contract: a value (a token id, a
 * nonce) that may be used once across every instance, recorded as a unique
 * row until it expires.
 */

export interface ConsumeOnceStore {
  /**
   * Records `key` as used until `expiresAt`. True the first time; false
   * while an earlier record of the same key has not expired at `now`.
   * Atomic: of concurrent calls with one key, exactly one gets true.
   */
  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes records that expired before `before`. Returns how many went. */
  purgeConsumed(before: number): Promise<number>;
}
