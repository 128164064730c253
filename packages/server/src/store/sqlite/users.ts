/** Users on SQLite. Changes that end sessions do so in the same transaction. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf, withRoles } from '../rows.js';
import type { NewUser, RolesChanged, UserChange, UserRecord, UserStore } from '../user-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { type UserRow, sameRoles, sqliteCode, toUser } from './rows.js';

export class SQLiteUsers implements UserStore {
  readonly #db: SQLiteDatabase;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #q;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#db = db;
    this.#revocations = revocations;
    this.#audit = audit;
    this.#q = {
      insert: db.prepare<[string, string, string, string, number, number]>(
        `INSERT INTO users (id, username, password_hash, roles, disabled, created_at, updated_at, version)
         VALUES (?, ?, ?, ?, 0, ?, ?, 0)`,
      ),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byUsername: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      // Every change bumps the version; RETURNING gives the new one for the user event.
      setPassword: db.prepare<[string, number, string], { version: number }>(
        'UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ? RETURNING version',
      ),
      disable: db.prepare<[number, string], { version: number }>(
        'UPDATE users SET disabled = 1, updated_at = ?, version = version + 1 WHERE id = ? RETURNING version',
      ),
      enable: db.prepare<[number, string], { version: number }>(
        'UPDATE users SET disabled = 0, updated_at = ?, version = version + 1 WHERE id = ? RETURNING version',
      ),
      setRoles: db.prepare<[string, number, string], UserRow>(
        'UPDATE users SET roles = ?, updated_at = ?, version = version + 1 WHERE id = ? RETURNING *',
      ),
    };
  }

  async createUser(user: NewUser, audit?: AuditNote): Promise<UserRecord> {
    return this.#db.write(() => {
      try {
        this.#q.insert.run(user.id, user.username, user.passwordHash, JSON.stringify(user.roles), user.createdAt, user.createdAt);
      } catch (error) {
        // The only UNIQUE column of users besides the primary key.
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        throw error;
      }
      const row = this.#q.byId.get(user.id);
      if (row === undefined) throw new Error('User vanished during insert.');
      this.#record(audit, { at: user.createdAt, userId: user.id });
      return toUser(row);
    });
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return this.#db.run(() => userOrNull(this.#q.byId.get(id)));
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.#db.run(() => userOrNull(this.#q.byUsername.get(username)));
  }

  async changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.write(() => {
      const { version } = mustExist(this.#q.setPassword.get(passwordHash, at, userId));
      const revokedSessionIds = this.#revocations.revokeAllOfUser(userId, 'password_changed', at);
      this.#revocations.appendUser(userId, version, at);
      this.#record(audit, { at, userId, sessionsRevoked: revokedSessionIds.length });
      return { version, revokedSessionIds };
    });
  }

  async disableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.write(() => {
      const { version } = mustExist(this.#q.disable.get(at, userId));
      const revokedSessionIds = this.#revocations.revokeAllOfUser(userId, 'user_disabled', at);
      this.#revocations.appendUser(userId, version, at);
      this.#record(audit, { at, userId, sessionsRevoked: revokedSessionIds.length });
      return { version, revokedSessionIds };
    });
  }

  async enableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> {
    return this.#db.write(() => {
      const { version } = mustExist(this.#q.enable.get(at, userId));
      this.#revocations.appendUser(userId, version, at);
      this.#record(audit, { at, userId });
      return { version, revokedSessionIds: [] };
    });
  }

  async changeRoles(userId: string, edit: (roles: readonly string[]) => readonly string[], at: number, audit?: AuditNote): Promise<RolesChanged> {
    return this.#db.write(() => {
      const before = toUser(mustExist(this.#q.byId.get(userId)));
      const roles = edit(before.roles);
      if (sameRoles(roles, before.roles)) return { user: before, previousRoles: before.roles, changed: false };
      const user = toUser(mustExist(this.#q.setRoles.get(JSON.stringify(roles), at, userId)));
      this.#revocations.appendUser(userId, user.version, at);
      this.#record(audit === undefined ? undefined : withRoles(audit, before.roles, user.roles), { at, userId });
      return { user, previousRoles: before.roles, changed: true };
    });
  }

  #record(audit: AuditNote | undefined, change: Parameters<typeof auditEventOf>[1]): void {
    if (audit !== undefined) this.#audit.insert(auditEventOf(audit, change));
  }
}

function userOrNull(row: UserRow | undefined): UserRecord | null {
  return row === undefined ? null : toUser(row);
}

function mustExist<T>(row: T | undefined): T {
  if (row === undefined) throw new GatehouseError('USER_NOT_FOUND');
  return row;
}
