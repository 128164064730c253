/** Users on PostgreSQL. Changes that end sessions do so in the same transaction. */
import type pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf, withRoles } from '../rows.js';
import type { NewUser, RolesChanged, UserChange, UserRecord, UserStore } from '../user-store.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendUserRevocation, revokeAllOfUser } from './revocations.js';
import { type Run, type UserRow, constraintOf, mapFirst, only, sameRoles, sqlState, toUser } from './rows.js';

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

  async changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.transaction(async (run) => {
      const version = await bumped(run<{ version: number }>('UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1 WHERE id = $3 RETURNING version', [passwordHash, at, userId]));
      const revokedSessionIds = await revokeAllOfUser(run, userId, 'password_changed', at);
      await appendUserRevocation(run, userId, version, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId, sessionsRevoked: revokedSessionIds.length }));
      return { version, revokedSessionIds };
    });
  }

  async disableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.transaction(async (run) => {
      const version = await bumped(run<{ version: number }>('UPDATE users SET disabled = TRUE, updated_at = $1, version = version + 1 WHERE id = $2 RETURNING version', [at, userId]));
      const revokedSessionIds = await revokeAllOfUser(run, userId, 'user_disabled', at);
      await appendUserRevocation(run, userId, version, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId, sessionsRevoked: revokedSessionIds.length }));
      return { version, revokedSessionIds };
    });
  }

  async enableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.transaction(async (run) => {
      const version = await bumped(run<{ version: number }>('UPDATE users SET disabled = FALSE, updated_at = $1, version = version + 1 WHERE id = $2 RETURNING version', [at, userId]));
      await appendUserRevocation(run, userId, version, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at, userId }));
      return { version, revokedSessionIds: [] };
    });
  }

  async changeRoles(userId: string, edit: (roles: readonly string[]) => readonly string[], at: number, audit?: AuditNote): Promise<RolesChanged> {
    return this.#db.transaction(async (run) => {
      // FOR UPDATE: a concurrent edit waits here and then reads what this one wrote.
      const found = mapFirst((await run<UserRow>('SELECT * FROM users WHERE id = $1 FOR UPDATE', [userId])).rows, toUser);
      if (found === null) throw new GatehouseError('USER_NOT_FOUND');
      const roles = edit(found.roles);
      if (sameRoles(roles, found.roles)) return { user: found, previousRoles: found.roles, changed: false };
      const { rows } = await run<UserRow>('UPDATE users SET roles = $1, updated_at = $2, version = version + 1 WHERE id = $3 RETURNING *', [roles, at, userId]);
      const user = toUser(only(rows));
      await appendUserRevocation(run, userId, user.version, at);
      if (audit !== undefined) await insertAudit(run, auditEventOf(withRoles(audit, found.roles, user.roles), { at, userId }));
      return { user, previousRoles: found.roles, changed: true };
    });
  }
}

/** The new version an `UPDATE … RETURNING version` of one user gave. */
async function bumped(update: Promise<pg.QueryResult<{ version: number }>>): Promise<number> {
  const row = (await update).rows[0];
  if (row === undefined) throw new GatehouseError('USER_NOT_FOUND');
  return row.version;
}
