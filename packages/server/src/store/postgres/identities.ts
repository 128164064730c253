/** Identity links on PostgreSQL: (issuer, subject) -> user. */
import { GatehouseError } from '../../core/errors.js';
import type { AuditNote } from '../audit-store.js';
import type { IdentityLink, IdentityStore } from '../identity-store.js';
import { auditEventOf } from '../rows.js';
import { insertAudit } from './audit.js';
import type { NewUser, UserRecord } from '../user-store.js';
import type { PostgresConnection } from './connection.js';
import { type UserRow, constraintOf, mapFirst, only, sqlState, toUser } from './rows.js';

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

const LINK_COLUMNS = 'issuer, subject, user_id, provider_id, created_at';

export class PostgresIdentities implements IdentityStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async findIdentity(issuer: string, subject: string): Promise<IdentityLink | null> {
    return this.#db.one(async (run) =>
      mapFirst((await run<LinkRow>(`SELECT ${LINK_COLUMNS} FROM identity_links WHERE issuer = $1 AND subject = $2`, [issuer, subject])).rows, toLink),
    );
  }

  async linkIdentity(link: IdentityLink, audit?: AuditNote): Promise<IdentityLink> {
    return this.#db.transaction(async (run) => {
      let inserted: LinkRow[];
      try {
        ({ rows: inserted } = await run<LinkRow>(
          `INSERT INTO identity_links (${LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (issuer, subject) DO NOTHING RETURNING ${LINK_COLUMNS}`,
          [link.issuer, link.subject, link.userId, link.providerId, link.createdAt],
        ));
      } catch (error) {
        if (sqlState(error) === '23503') throw new GatehouseError('USER_NOT_FOUND', { cause: error });
        throw error;
      }
      if (inserted[0] !== undefined) {
        if (audit !== undefined) await insertAudit(run, auditEventOf(audit, { at: link.createdAt, userId: link.userId }));
        return toLink(inserted[0]);
      }
      // The primary key decided: whoever holds the identity keeps it.
      const { rows } = await run<LinkRow>(`SELECT ${LINK_COLUMNS} FROM identity_links WHERE issuer = $1 AND subject = $2`, [link.issuer, link.subject]);
      const existing = only(rows);
      if (existing.user_id !== link.userId) throw new GatehouseError('IDENTITY_ALREADY_LINKED');
      return toLink(existing);
    });
  }

  async createUserWithIdentity(user: NewUser, link: Omit<IdentityLink, 'userId' | 'createdAt'>): Promise<UserRecord> {
    return this.#db.transaction(async (run) => {
      let created: UserRow;
      try {
        const { rows } = await run<UserRow>(
          `INSERT INTO users (id, username, password_hash, roles, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
          [user.id, user.username, user.passwordHash, user.roles, user.createdAt],
        );
        created = only(rows);
        await run(`INSERT INTO identity_links (${LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [link.issuer, link.subject, user.id, link.providerId, user.createdAt]);
      } catch (error) {
        if (sqlState(error) === '23505' && constraintOf(error) === 'users_username_key') throw new GatehouseError('USERNAME_TAKEN', { cause: error });
        if (sqlState(error) === '23505' && constraintOf(error) === 'identity_links_pkey') throw new GatehouseError('IDENTITY_ALREADY_LINKED', { cause: error });
        throw error;
      }
      return toUser(created);
    });
  }

  async listIdentities(userId: string): Promise<IdentityLink[]> {
    return this.#db.one(async (run) =>
      (await run<LinkRow>(`SELECT ${LINK_COLUMNS} FROM identity_links WHERE user_id = $1 ORDER BY created_at, issuer, subject`, [userId])).rows.map(toLink),
    );
  }
}
