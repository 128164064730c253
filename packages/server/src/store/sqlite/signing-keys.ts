/** Access-token signing keys on SQLite. */
import { GatehouseError } from '../../core/errors.js';
import type { NewSigningKey, SigningKeyRecord, SigningKeyStore } from '../signing-key-store.js';
import type { SQLiteDatabase } from './database.js';
import { type SigningKeyRow, sqliteCode, toSigningKey } from './rows.js';

export class SQLiteSigningKeys implements SigningKeyStore {
  readonly #db: SQLiteDatabase;
  readonly #q;

  constructor(db: SQLiteDatabase) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, string, string, string, number, number]>(
        `INSERT INTO signing_keys (kid, alg, public_jwk, encrypted_private_key, created_at, activates_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      retireOthers: db.prepare<[number, string]>('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?'),
      byKid: db.prepare<[string], SigningKeyRow>('SELECT * FROM signing_keys WHERE kid = ?'),
      list: db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY activates_at, created_at, kid'),
      delete: db.prepare<[string]>('DELETE FROM signing_keys WHERE kid = ?'),
    };
  }

  async insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> {
    return this.#db.write(() => {
      try {
        this.#q.insert.run(key.kid, key.alg, key.publicJwk, key.encryptedPrivateKey, key.createdAt, key.activatesAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new GatehouseError('KEY_ID_TAKEN', { cause: error });
        throw error;
      }
      this.#q.retireOthers.run(key.activatesAt, key.kid);
      const row = this.#q.byKid.get(key.kid);
      if (row === undefined) throw new Error('Signing key vanished during insert.');
      return toSigningKey(row);
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#db.run(() => this.#q.list.all().map(toSigningKey));
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.#db.run(() => this.#q.delete.run(kid).changes > 0);
  }
}
