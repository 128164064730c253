/** OAuth clients and their grants on SQLite. */
import { GatehouseError } from '../../core/errors.js';
import { clientRemovalVersion, clientRevocationSubject, type OAuthClientRecord, type OAuthClientStore, type OAuthGrantRecord } from '../oauth-client-store.js';
import { clientAdded, clientRemoved } from '../rows.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import type { SQLiteRevocations } from './revocations.js';
import { sqliteCode } from './rows.js';

interface ClientRow {
  id: string;
  type: string;
  redirect_uris: string;
  scopes: string;
  secret_hash: string | null;
  jwks: string | null;
  created_at: number;
}

interface GrantRow {
  session_id: string;
  client_id: string;
  scope: string;
  code_id: string;
  created_at: number;
  dpop_jkt: string | null;
}

function toClient(row: ClientRow): OAuthClientRecord {
  return {
    id: row.id,
    type: row.type === 'machine' ? 'machine' : 'native',
    redirectURIs: JSON.parse(row.redirect_uris) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    secretHash: row.secret_hash,
    jwks: row.jwks,
    createdAt: row.created_at,
  };
}

function toGrant(row: GrantRow): OAuthGrantRecord {
  return { sessionId: row.session_id, clientId: row.client_id, scope: row.scope, codeId: row.code_id, createdAt: row.created_at, jkt: row.dpop_jkt };
}

export class SQLiteOAuthClients implements OAuthClientStore {
  readonly #db: SQLiteDatabase;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #q;

  constructor(db: SQLiteDatabase, revocations: SQLiteRevocations, audit: SQLiteAudit) {
    this.#db = db;
    this.#revocations = revocations;
    this.#audit = audit;
    this.#q = {
      insert: db.prepare<[string, string, string, string, string | null, string | null, number]>(
        'INSERT INTO oauth_clients (id, type, redirect_uris, scopes, secret_hash, jwks, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      find: db.prepare<[string], ClientRow>('SELECT * FROM oauth_clients WHERE id = ?'),
      list: db.prepare<[], ClientRow>('SELECT * FROM oauth_clients ORDER BY id'),
      sessionsOf: db.prepare<[string], { session_id: string }>('SELECT session_id FROM oauth_grants WHERE client_id = ? ORDER BY created_at'),
      delete: db.prepare<[string]>('DELETE FROM oauth_clients WHERE id = ?'),
      endSession: db.prepare<[number, string], { user_id: string }>(
        "UPDATE sessions SET revoked_at = ?, revoke_reason = 'admin' WHERE id = ? AND revoked_at IS NULL RETURNING user_id",
      ),
      insertGrant: db.prepare<[string, string, string, string, number, string | null]>(
        'INSERT INTO oauth_grants (session_id, client_id, scope, code_id, created_at, dpop_jkt) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      grant: db.prepare<[string], GrantRow>('SELECT * FROM oauth_grants WHERE session_id = ?'),
      grantByCode: db.prepare<[string], GrantRow>('SELECT * FROM oauth_grants WHERE code_id = ?'),
    };
  }

  async createClient(client: OAuthClientRecord): Promise<OAuthClientRecord> {
    return this.#db.write(() => {
      try {
        this.#q.insert.run(client.id, client.type, JSON.stringify(client.redirectURIs), JSON.stringify(client.scopes), client.secretHash, client.jwks, client.createdAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new GatehouseError('CLIENT_ID_TAKEN', { cause: error });
        throw error;
      }
      this.#audit.insert(clientAdded(client));
      return client;
    });
  }

  async findClient(id: string): Promise<OAuthClientRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.find.get(id);
      return row === undefined ? null : toClient(row);
    });
  }

  async listClients(): Promise<OAuthClientRecord[]> {
    return this.#db.run(() => this.#q.list.all().map(toClient));
  }

  async deleteClient(id: string, at: number): Promise<string[] | null> {
    return this.#db.write(() => {
      const granted = this.#q.sessionsOf.all(id).map((r) => r.session_id);
      // The grants go with the client (ON DELETE CASCADE).
      if (this.#q.delete.run(id).changes === 0) return null;
      this.#revocations.appendUser(clientRevocationSubject(id), clientRemovalVersion(at), at);
      const ended: string[] = [];
      for (const sessionId of granted) {
        const row = this.#q.endSession.get(at, sessionId);
        if (row === undefined) continue; // already ended
        this.#revocations.append('session', sessionId, row.user_id, at);
        ended.push(sessionId);
      }
      this.#audit.insert(clientRemoved(id, ended.length, at));
      return ended;
    });
  }

  async recordGrant(grant: OAuthGrantRecord): Promise<void> {
    this.#db.run(() => this.#q.insertGrant.run(grant.sessionId, grant.clientId, grant.scope, grant.codeId, grant.createdAt, grant.jkt));
  }

  async findGrant(sessionId: string): Promise<OAuthGrantRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.grant.get(sessionId);
      return row === undefined ? null : toGrant(row);
    });
  }

  async findGrantByCode(codeId: string): Promise<OAuthGrantRecord | null> {
    return this.#db.run(() => {
      const row = this.#q.grantByCode.get(codeId);
      return row === undefined ? null : toGrant(row);
    });
  }
}
