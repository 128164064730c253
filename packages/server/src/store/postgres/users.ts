/** Users on PostgreSQL. Changes that end sessions do so in the same transaction. */
import type pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf } from '../rows.js';
import type { NewUser, UserRecord, UserStore } from '../user-store.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendRevocations, revokeAllOfUser } from './revocations.js';
import { type Run, type UserRow, constraintOf, mapFirst, only, sqlState, toUser } from './rows.js';

export class PostgresUsers implements UserStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async createUser(u: NewUser, audit?: AuditNote): Promise<UserRecord> {
    const create = async (run: Run): Promise<UserRecord> => {
      try {
        const { rows } = await run<UserRow>(
          `INSERT INTO users (id, username, password_hash, roles, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
          [u.id, u.username, u.passwordHash, u.roles, u.createdAt],
        );
        if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at: u.createdAt, userId: u.id }));
        return toUser(only(rows));
      } catch (error) {
        if (sqlState(error) === '23505' && constraintOf(error) === 'users_username_key') {
          throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        }
        throw error;
      }
    };
    // One statement needs no transaction; two do.
    return audit === undefined ? this.#db.one(create) : this.#db.transaction(create);
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows, toUser));
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<UserRow>('SELECT * FROM users WHERE username = $1', [username])).rows, toUser));
  }

  async changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.transaction(async (run) => {
      mustChange(await run('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [passwordHash, at, userId]));
      const revoked = await revokeAllOfUser(run, userId, 'password_changed', at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId, sessionsRevoked: revoked.length }));
      return revoked;
    });
  }

  async disableUser(userId: string, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.transaction(async (run) => {
      // GREATEST: a clock that is behind (the CLI on another host) must not revive stale tokens.
      mustChange(
        await run(
          'UPDATE users SET disabled = TRUE, updated_at = $1, tokens_valid_after = GREATEST(tokens_valid_after, $1) WHERE id = $2',
          [at, userId],
        ),
      );
      const revoked = await revokeAllOfUser(run, userId, 'user_disabled', at);
      await appendRevocations(run, 'user', [null], userId, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId, sessionsRevoked: revoked.length }));
      return revoked;
    });
  }

  async enableUser(userId: string, at: number, audit?: AuditNote): Promise<void> {
    await this.#db.transaction(async (run) => {
      mustChange(await run('UPDATE users SET disabled = FALSE, updated_at = $1 WHERE id = $2', [at, userId]));
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId }));
    });
  }

  async setRoles(userId: string, roles: readonly string[], at: number, audit?: AuditNote): Promise<void> {
    await this.#db.transaction(async (run) => {
      mustChange(
        await run(
          'UPDATE users SET roles = $1, updated_at = $2, tokens_valid_after = GREATEST(tokens_valid_after, $2) WHERE id = $3',
          [roles, at, userId],
        ),
      );
      await appendRevocations(run, 'user', [null], userId, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId }));
    });
  }
}

function mustChange(result: pg.QueryResult): void {
  if ((result.rowCount ?? 0) === 0) throw new GatehouseError('USER_NOT_FOUND');
}
