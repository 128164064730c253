/** Single-use values on PostgreSQL: a unique row each, until it expires. */
import type { ConsumeOnceStore } from '../consume-once-store.js';
import type { PostgresConnection } from './connection.js';

export class PostgresConsumedValues implements ConsumeOnceStore {
  readonly #db: PostgresConnection;
  readonly #batchSize: number;

  constructor(db: PostgresConnection, batchSize: number) {
    this.#db = db;
    this.#batchSize = batchSize;
  }

  /**
   * Inserts, or takes over a record that has expired. Of concurrent inserts of
   * one key, the primary key lets one through; the others wait for it and then
   * find a live record, which changes nothing (0 rows).
   */
  async consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#db.one(async (run) => {
      const { rowCount } = await run(
        `INSERT INTO consumed_values (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE consumed_values.expires_at <= $3`,
        [key, expiresAt, now],
      );
      return rowCount === 1;
    });
  }

  async purgeConsumed(before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.#db.one((run) =>
        run('DELETE FROM consumed_values WHERE key IN (SELECT key FROM consumed_values WHERE expires_at < $1 LIMIT $2)', [before, this.#batchSize]),
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < this.#batchSize) return total;
    }
  }
}
