/**
 * The revocation feed part of the storage contract: every revocation is also
 * appended as an event, in the transaction that made it, so that every
 * instance's in-memory revocation list can catch up by reading them in order.
 */

/** A revocation as the in-memory revocation list learns of it. `seq` grows monotonically. */
export type RevocationEvent =
  | {
      readonly seq: number;
      readonly kind: 'session';
      readonly sessionId: string;
      readonly userId: string;
      readonly at: number;
    }
  | {
      readonly seq: number;
      readonly kind: 'user';
      readonly userId: string;
      /** The user's version after the change: access tokens of an older version are stale. */
      readonly version: number;
      readonly at: number;
    };

/** Reading the revocation events the other parts of the store append. */
export interface RevocationStore {
  /**
   * Revocations with `seq` greater than `afterSeq` and `at` not before
   * `notBefore`, in `seq` order. Feeds the in-memory revocation list.
   */
  listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]>;
}
