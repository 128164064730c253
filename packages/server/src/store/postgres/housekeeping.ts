/** Purging what ended long ago from PostgreSQL, in short batches. */
import type { HousekeepingStore } from '../store.js';
import type { PostgresConnection } from './connection.js';
import type { PostgresConsumedValues } from './consumed-values.js';

export class PostgresHousekeeping implements HousekeepingStore {
  readonly #db: PostgresConnection;
  readonly #batchSize: number;
  readonly #consumed: PostgresConsumedValues;

  /** `batchSize`: sessions or revocation events one statement deletes; ten times as many refresh tokens. */
  constructor(db: PostgresConnection, batchSize: number, consumed: PostgresConsumedValues) {
    this.#db = db;
    this.#batchSize = batchSize;
    this.#consumed = consumed;
  }

  /**
   * Deletes in batches, each its own short statement, so requests never queue
   * behind a long delete and no batch runs into the statement timeout.
   * Refresh tokens go first, in batches of their own: a long-lived session
   * holds thousands (one per rotation), which a cascading session delete
   * would have to remove in one go. SKIP LOCKED leaves sessions another
   * transaction is using to a later purge, and lets several instances purge
   * at once without waiting on each other.
   */
  async purgeExpired(before: number): Promise<number> {
    const batches = async (sql: string, size: number): Promise<number> => {
      let total = 0;
      for (;;) {
        const { rowCount } = await this.#db.one((run) => run(sql, [before, size]));
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < size) return total;
      }
    };
    await batches(
      `DELETE FROM refresh_tokens WHERE hash IN (
         SELECT t.hash FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
         WHERE s.absolute_expires_at < $1 OR s.idle_expires_at < $1 OR s.revoked_at < $1 LIMIT $2)`,
      this.#batchSize * 10,
    );
    const sessions = await batches(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1
         LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      this.#batchSize,
    );
    await batches('DELETE FROM revocation_events WHERE seq IN (SELECT seq FROM revocation_events WHERE at < $1 LIMIT $2)', this.#batchSize);
    await this.#consumed.purgeConsumed(before);
    return sessions;
  }
}
