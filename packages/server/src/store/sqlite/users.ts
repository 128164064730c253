/** Users on SQLite. Changes that end sessions do so in the same transaction. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import { auditEventOf } from '../rows.js';
import type { NewUser, UserRecord, UserStore } from '../user-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { type UserRow, sqliteCode, toUser } from './rows.js';

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
        `INSERT INTO users (id, username, password_hash, roles, disabled, created_at, updated_at, tokens_valid_after)
         VALUES (?, ?, ?, ?, 0, ?, ?, 0)`,
      ),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byUsername: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      setPassword: db.prepare<[string, number, string]>('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
      // MAX: a clock that is behind (the CLI on another host) must not revive stale tokens.
      disable: db.prepare<[number, number, string]>(
        'UPDATE users SET disabled = 1, updated_at = ?, tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?',
      ),
      enable: db.prepare<[number, string]>('UPDATE users SET disabled = 0, updated_at = ? WHERE id = ?'),
      setRoles: db.prepare<[string, number, number, string]>(
        'UPDATE users SET roles = ?, updated_at = ?, tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?',
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

  async changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.write(() => {
      mustChange(this.#q.setPassword.run(passwordHash, at, userId).changes);
      const revoked = this.#revocations.revokeAllOfUser(userId, 'password_changed', at);
      this.#record(audit, { at, userId, sessionsRevoked: revoked.length });
      return revoked;
    });
  }

  async disableUser(userId: string, at: number, audit?: AuditNote): Promise<string[]> {
    return this.#db.write(() => {
      mustChange(this.#q.disable.run(at, at, userId).changes);
      const revoked = this.#revocations.revokeAllOfUser(userId, 'user_disabled', at);
      this.#revocations.append('user', null, userId, at);
      this.#record(audit, { at, userId, sessionsRevoked: revoked.length });
      return revoked;
    });
  }

  async enableUser(userId: string, at: number, audit?: AuditNote): Promise<void> {
    this.#db.write(() => {
      mustChange(this.#q.enable.run(at, userId).changes);
      this.#record(audit, { at, userId });
    });
  }

  async setRoles(userId: string, roles: readonly string[], at: number, audit?: AuditNote): Promise<void> {
    this.#db.write(() => {
      mustChange(this.#q.setRoles.run(JSON.stringify(roles), at, at, userId).changes);
      this.#revocations.append('user', null, userId, at);
      this.#record(audit, { at, userId });
    });
  }

  #record(audit: AuditNote | undefined, change: Parameters<typeof auditEventOf>[1]): void {
    if (audit !== undefined) this.#audit.insert(auditEventOf(audit, change));
  }
}

function userOrNull(row: UserRow | undefined): UserRecord | null {
  return row === undefined ? null : toUser(row);
}

function mustChange(changes: number): void {
  if (changes === 0) throw new GatehouseError('USER_NOT_FOUND');
}
