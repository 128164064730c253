/** Access-token signing keys on PostgreSQL. */
import { GatehouseError } from '../../core/errors.js';
import type { NewSigningKey, SigningKeyRecord, SigningKeyStore } from '../signing-key-store.js';
import type { PostgresConnection } from './connection.js';
import { type SigningKeyRow, only, sqlState, toSigningKey } from './rows.js';

export class PostgresSigningKeys implements SigningKeyStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> {
    return this.#db.transaction(async (run) => {
      // Two rotations at once must not both leave their key unretired: take turns (readers are not blocked).
      await run('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      try {
        await run(
          `INSERT INTO signing_keys (kid, alg, public_jwk, encrypted_private_key, created_at, activates_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [key.kid, key.alg, key.publicJwk, key.encryptedPrivateKey, key.createdAt, key.activatesAt],
        );
      } catch (error) {
        if (sqlState(error) === '23505') throw new GatehouseError('KEY_ID_TAKEN', { cause: error });
        throw error;
      }
      await run('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND kid <> $2', [key.activatesAt, key.kid]);
      return toSigningKey(only((await run<SigningKeyRow>('SELECT * FROM signing_keys WHERE kid = $1', [key.kid])).rows));
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#db.one(async (run) => {
      // COLLATE "C": byte order, as SQLite compares, whatever the database's locale.
      const { rows } = await run<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY activates_at, created_at, kid COLLATE "C"');
      return rows.map(toSigningKey);
    });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#db.one(async (run) => ((await run('DELETE FROM signing_keys WHERE kid = $1', [kid])).rowCount ?? 0) > 0);
  }
}
