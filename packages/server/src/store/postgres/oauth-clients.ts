/** OAuth clients and their grants on PostgreSQL. */
import { GatehouseError } from '../../core/errors.js';
import { clientRemovalVersion, clientRevocationSubject, type OAuthClientRecord, type OAuthClientStore, type OAuthGrantRecord } from '../oauth-client-store.js';
import { clientAdded, clientRemoved } from '../rows.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { appendRevocations, appendUserRevocation } from './revocations.js';
import { mapFirst, sqlState } from './rows.js';

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

export class PostgresOAuthClients implements OAuthClientStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async createClient(client: OAuthClientRecord): Promise<OAuthClientRecord> {
    return this.#db.transaction(async (run) => {
      try {
        await run(
          'INSERT INTO oauth_clients (id, type, redirect_uris, scopes, secret_hash, jwks, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [client.id, client.type, JSON.stringify(client.redirectURIs), JSON.stringify(client.scopes), client.secretHash, client.jwks, client.createdAt],
        );
      } catch (error) {
        if (sqlState(error) === '23505') throw new GatehouseError('CLIENT_ID_TAKEN', { cause: error });
        throw error;
      }
      await insertAudit(run, clientAdded(client));
      return client;
    });
  }

  async findClient(id: string): Promise<OAuthClientRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<ClientRow>('SELECT * FROM oauth_clients WHERE id = $1', [id])).rows, toClient));
  }

  async listClients(): Promise<OAuthClientRecord[]> {
    // COLLATE "C": byte order, as SQLite compares.
    return this.#db.one(async (run) => (await run<ClientRow>('SELECT * FROM oauth_clients ORDER BY id COLLATE "C"')).rows.map(toClient));
  }

  async deleteClient(id: string, at: number): Promise<string[] | null> {
    return this.#db.transaction(async (run) => {
      const { rows } = await run<{ session_id: string }>('SELECT session_id FROM oauth_grants WHERE client_id = $1 ORDER BY created_at', [id]);
      // The grants go with the client (ON DELETE CASCADE).
      const { rowCount } = await run('DELETE FROM oauth_clients WHERE id = $1', [id]);
      if ((rowCount ?? 0) === 0) return null;
      await appendUserRevocation(run, clientRevocationSubject(id), clientRemovalVersion(at), at);
      const ended: string[] = [];
      for (const { session_id: sessionId } of rows) {
        const revoked = await run<{ user_id: string }>(
          "UPDATE sessions SET revoked_at = $1, revoke_reason = 'admin' WHERE id = $2 AND revoked_at IS NULL RETURNING user_id",
          [at, sessionId],
        );
        const row = revoked.rows[0];
        if (row === undefined) continue; // already ended
        await appendRevocations(run, 'session', [sessionId], row.user_id, at);
        ended.push(sessionId);
      }
      await insertAudit(run, clientRemoved(id, ended.length, at));
      return ended;
    });
  }

  async recordGrant(grant: OAuthGrantRecord): Promise<void> {
    await this.#db.one((run) =>
      run('INSERT INTO oauth_grants (session_id, client_id, scope, code_id, created_at, dpop_jkt) VALUES ($1, $2, $3, $4, $5, $6)', [
        grant.sessionId,
        grant.clientId,
        grant.scope,
        grant.codeId,
        grant.createdAt,
        grant.jkt,
      ]),
    );
  }

  async findGrant(sessionId: string): Promise<OAuthGrantRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<GrantRow>('SELECT * FROM oauth_grants WHERE session_id = $1', [sessionId])).rows, toGrant));
  }

  async findGrantByCode(codeId: string): Promise<OAuthGrantRecord | null> {
    return this.#db.one(async (run) => mapFirst((await run<GrantRow>('SELECT * FROM oauth_grants WHERE code_id = $1', [codeId])).rows, toGrant));
  }
}
