/** Identity links on SQLite: (issuer, subject) -> user. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import type { IdentityLink, IdentityStore } from '../identity-store.js';
import { auditEventOf } from '../rows.js';
import type { NewUser, UserRecord } from '../user-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import { type UserRow, sqliteCode, toUser } from './rows.js';

interface LinkRow {
  issuer: string;
  subject: string;
  user_id: string;
  provider_id: string;
  created_at: number;
}

function toLink(row: LinkRow): IdentityLink {
  return { issuer: row.issuer, subject: row.subject, userId: row.user_id, providerId: row.provider_id, createdAt: row.created_at };
}

export class SQLiteIdentities implements IdentityStore {
  readonly #db: SQLiteDatabase;
  readonly #audit: SQLiteAudit;
  readonly #q;

  constructor(db: SQLiteDatabase, audit: SQLiteAudit) {
    this.#db = db;
    this.#audit = audit;
    this.#q = {
      find: db.prepare<[string, string], LinkRow>('SELECT * FROM identity_links WHERE issuer = ? AND subject = ?'),
      insert: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO identity_links (issuer, subject, user_id, provider_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      insertUser: db.prepare<[string, string, string, string, number, number]>(
        'INSERT INTO users (id, username, password_hash, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byUser: db.prepare<[string], LinkRow>('SELECT * FROM identity_links WHERE user_id = ? ORDER BY created_at, issuer, subject'),
    };
  }

  async findIdentity(issuer: string, subject: string): Promise<IdentityLink | null> {
    return this.#db.run(() => {
      const row = this.#q.find.get(issuer, subject);
      return row === undefined ? null : toLink(row);
    });
  }

  async linkIdentity(link: IdentityLink, audit?: AuditNote): Promise<IdentityLink> {
    return this.#db.write(() => {
      const existing = this.#q.find.get(link.issuer, link.subject);
      if (existing !== undefined) {
        if (existing.user_id !== link.userId) throw new GatehouseError('IDENTITY_ALREADY_LINKED');
        return toLink(existing);
      }
      try {
        this.#q.insert.run(link.issuer, link.subject, link.userId, link.providerId, link.createdAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GatehouseError('USER_NOT_FOUND', { cause: error });
        throw error;
      }
      if (audit !== undefined) this.#audit.insert(auditEventOf(audit, { at: link.createdAt, userId: link.userId }));
      return { ...link };
    });
  }

  async createUserWithIdentity(user: NewUser, link: Omit<IdentityLink, 'userId' | 'createdAt'>): Promise<UserRecord> {
    return this.#db.write(() => {
      if (this.#q.find.get(link.issuer, link.subject) !== undefined) throw new GatehouseError('IDENTITY_ALREADY_LINKED');
      try {
        this.#q.insertUser.run(user.id, user.username, user.passwordHash, JSON.stringify(user.roles), user.createdAt, user.createdAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE') throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        throw error;
      }
      this.#q.insert.run(link.issuer, link.subject, user.id, link.providerId, user.createdAt);
      const row = this.#q.userById.get(user.id);
      if (row === undefined) throw new Error('User vanished during insert.');
      return toUser(row);
    });
  }

  async listIdentities(userId: string): Promise<IdentityLink[]> {
    return this.#db.run(() => this.#q.byUser.all(userId).map(toLink));
  }
}
