/** Partners and their keys on PostgreSQL, with the change log every instance's key registry reads. */
import { GatehouseError } from '../../core/errors.js';
import type { NewPartner, NewPartnerKey, PartnerChanges, PartnerKeyKind, PartnerKeyRecord, PartnerRecord, PartnerStore } from '../partner-store.js';
import { keyRevoked, keyRotated, partnerAdded } from '../rows.js';
import { insertAudit } from './audit.js';
import type { PostgresConnection } from './connection.js';
import { constraintOf, sqlState, type Run } from './rows.js';

interface PartnerRow {
  id: string;
  name: string;
  origins: string[];
  scopes: string[];
  created_at: number;
}

interface KeyRow {
  id: string;
  partner_id: string;
  kind: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

const KEY_COLUMNS = 'id, partner_id, kind, hash, created_at, expires_at, revoked_at';

function toKey(row: KeyRow): PartnerKeyRecord {
  return {
    id: row.id,
    partnerId: row.partner_id,
    kind: row.kind as PartnerKeyKind,
    hash: row.hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** The partners with these ids (those that exist), each with its keys, in the order of `ids`. */
async function loadPartners(run: Run, ids: readonly string[]): Promise<PartnerRecord[]> {
  if (ids.length === 0) return [];
  const [{ rows: partners }, { rows: keys }] = [
    await run<PartnerRow>('SELECT id, name, origins, scopes, created_at FROM partners WHERE id = ANY($1::text[])', [ids]),
    await run<KeyRow>(`SELECT ${KEY_COLUMNS} FROM partner_keys WHERE partner_id = ANY($1::text[]) ORDER BY created_at, id`, [ids]),
  ];
  const byId = new Map(partners.map((p) => [p.id, p]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (row === undefined) return [];
    return [{
      id: row.id,
      name: row.name,
      origins: row.origins,
      scopes: row.scopes,
      createdAt: row.created_at,
      keys: keys.filter((k) => k.partner_id === id).map(toKey),
    }];
  });
}

/**
 * Appends to the change log. The table lock (which plain reads ignore) makes
 * writers take turns until they commit, so changes become visible in `seq`
 * order and a reader's cursor never skips one committed behind it.
 */
async function appendChange(run: Run, partnerId: string, at: number): Promise<void> {
  await run('LOCK TABLE partner_changes IN EXCLUSIVE MODE');
  await run('INSERT INTO partner_changes (partner_id, at) VALUES ($1, $2)', [partnerId, at]);
}

export class PostgresPartners implements PartnerStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async createPartner(partner: NewPartner, keys: readonly NewPartnerKey[]): Promise<PartnerRecord> {
    return this.#db.transaction(async (run) => {
      try {
        await run('INSERT INTO partners (id, name, origins, scopes, created_at) VALUES ($1, $2, $3, $4, $5)', [
          partner.id, partner.name, partner.origins, partner.scopes, partner.createdAt,
        ]);
      } catch (error) {
        if (sqlState(error) === '23505' && constraintOf(error) === 'partners_pkey') throw new GatehouseError('PARTNER_ID_TAKEN', { cause: error });
        throw error;
      }
      for (const key of keys) {
        await run('INSERT INTO partner_keys (id, partner_id, kind, hash, created_at) VALUES ($1, $2, $3, $4, $5)', [key.id, partner.id, key.kind, key.hash, key.createdAt]);
      }
      await appendChange(run, partner.id, partner.createdAt);
      await insertAudit(run, partnerAdded(partner, keys));
      return (await loadPartners(run, [partner.id]))[0] as PartnerRecord;
    });
  }

  async findPartner(id: string): Promise<PartnerRecord | null> {
    return this.#db.one(async (run) => (await loadPartners(run, [id]))[0] ?? null);
  }

  async listPartners(): Promise<PartnerRecord[]> {
    return this.#db.one(async (run) => {
      const { rows } = await run<{ id: string }>('SELECT id FROM partners ORDER BY id');
      return loadPartners(run, rows.map((r) => r.id));
    });
  }

  async rotatePartnerKey(partnerId: string, key: NewPartnerKey, retireAt: number, at: number): Promise<PartnerRecord> {
    return this.#db.transaction(async (run) => {
      const { rowCount } = await run('SELECT 1 FROM partners WHERE id = $1 FOR UPDATE', [partnerId]);
      if (rowCount === 0) throw new GatehouseError('PARTNER_NOT_FOUND');
      // A key already ending sooner keeps its earlier end: a rotation never lengthens a key's life.
      await run(
        `UPDATE partner_keys SET expires_at = $1 WHERE partner_id = $2 AND kind = $3 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
        [retireAt, partnerId, key.kind],
      );
      await run('INSERT INTO partner_keys (id, partner_id, kind, hash, created_at) VALUES ($1, $2, $3, $4, $5)', [key.id, partnerId, key.kind, key.hash, key.createdAt]);
      await appendChange(run, partnerId, at);
      await insertAudit(run, keyRotated(partnerId, key, retireAt, at));
      return (await loadPartners(run, [partnerId]))[0] as PartnerRecord;
    });
  }

  async revokePartnerKey(keyId: string, at: number): Promise<PartnerKeyRecord | null> {
    return this.#db.transaction(async (run) => {
      const { rows } = await run<KeyRow>(
        `UPDATE partner_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING ${KEY_COLUMNS}`,
        [at, keyId],
      );
      if (rows[0] !== undefined) {
        await appendChange(run, rows[0].partner_id, at);
        await insertAudit(run, keyRevoked(rows[0].partner_id, keyId, rows[0].kind, at));
        return toKey(rows[0]);
      }
      const { rows: existing } = await run<KeyRow>(`SELECT ${KEY_COLUMNS} FROM partner_keys WHERE id = $1`, [keyId]);
      return existing[0] === undefined ? null : toKey(existing[0]);
    });
  }

  async listPartnerChanges(afterSeq: number): Promise<PartnerChanges> {
    return this.#db.one(async (run) => {
      const { rows } = await run<{ partner_id: string; seq: number }>(
        'SELECT partner_id, MAX(seq) AS seq FROM partner_changes WHERE seq > $1 GROUP BY partner_id ORDER BY MAX(seq)',
        [afterSeq],
      );
      // Read after the log: each partner is at least as new as its last change seen.
      const partners = await loadPartners(run, rows.map((r) => r.partner_id));
      return { seq: rows.reduce((max, r) => Math.max(max, r.seq), afterSeq), partners };
    });
  }
}
