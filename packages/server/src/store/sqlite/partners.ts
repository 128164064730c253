/** Partners and their keys on SQLite, with the change log every instance's key registry reads. */
import { GatehouseError } from '../../core/errors.js';
import type { NewPartner, NewPartnerKey, PartnerChanges, PartnerKeyKind, PartnerKeyRecord, PartnerRecord, PartnerStore } from '../partner-store.js';
import type { SQLiteAudit } from './audit.js';
import type { SQLiteDatabase } from './database.js';
import { keyRevoked, keyRotated, partnerAdded } from '../rows.js';
import { sqliteCode } from './rows.js';

interface PartnerRow {
  id: string;
  name: string;
  origins: string;
  scopes: string;
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

function stringList(text: string, column: string): string[] {
  const value: unknown = JSON.parse(text);
  // Only a hand-edited database gets here; failing loudly beats granting an odd origin or scope.
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`partners.${column} is not a JSON array of strings.`);
  return value;
}

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

export class SQLitePartners implements PartnerStore {
  readonly #db: SQLiteDatabase;
  readonly #audit: SQLiteAudit;
  readonly #q;

  /** Every change also writes its audit event, in the same transaction. */
  constructor(db: SQLiteDatabase, audit: SQLiteAudit) {
    this.#db = db;
    this.#audit = audit;
    this.#q = {
      insertPartner: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO partners (id, name, origins, scopes, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      insertKey: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO partner_keys (id, partner_id, kind, hash, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      partner: db.prepare<[string], PartnerRow>('SELECT * FROM partners WHERE id = ?'),
      partners: db.prepare<[], PartnerRow>('SELECT * FROM partners ORDER BY id'),
      keys: db.prepare<[string], KeyRow>('SELECT * FROM partner_keys WHERE partner_id = ? ORDER BY created_at, id'),
      key: db.prepare<[string], KeyRow>('SELECT * FROM partner_keys WHERE id = ?'),
      retire: db.prepare<[number, string, string, number]>(
        `UPDATE partner_keys SET expires_at = ? WHERE partner_id = ? AND kind = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
      ),
      revoke: db.prepare<[number, string]>('UPDATE partner_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      change: db.prepare<[string, number]>('INSERT INTO partner_changes (partner_id, at) VALUES (?, ?)'),
      changed: db.prepare<[number], { partner_id: string; seq: number }>(
        'SELECT partner_id, MAX(seq) AS seq FROM partner_changes WHERE seq > ? GROUP BY partner_id ORDER BY MAX(seq)',
      ),
    };
  }

  #load(row: PartnerRow): PartnerRecord {
    return {
      id: row.id,
      name: row.name,
      origins: stringList(row.origins, 'origins'),
      scopes: stringList(row.scopes, 'scopes'),
      createdAt: row.created_at,
      keys: this.#q.keys.all(row.id).map(toKey),
    };
  }

  #find(id: string): PartnerRecord | null {
    const row = this.#q.partner.get(id);
    return row === undefined ? null : this.#load(row);
  }

  async createPartner(partner: NewPartner, keys: readonly NewPartnerKey[]): Promise<PartnerRecord> {
    return this.#db.write(() => {
      try {
        this.#q.insertPartner.run(partner.id, partner.name, JSON.stringify(partner.origins), JSON.stringify(partner.scopes), partner.createdAt);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new GatehouseError('PARTNER_ID_TAKEN', { cause: error });
        throw error;
      }
      for (const key of keys) this.#q.insertKey.run(key.id, partner.id, key.kind, key.hash, key.createdAt);
      this.#q.change.run(partner.id, partner.createdAt);
      this.#audit.insert(partnerAdded(partner, keys));
      return this.#find(partner.id) as PartnerRecord;
    });
  }

  async findPartner(id: string): Promise<PartnerRecord | null> {
    return this.#db.run(() => this.#find(id));
  }

  async listPartners(): Promise<PartnerRecord[]> {
    return this.#db.run(() => this.#q.partners.all().map((row) => this.#load(row)));
  }

  async rotatePartnerKey(partnerId: string, key: NewPartnerKey, retireAt: number, at: number): Promise<PartnerRecord> {
    return this.#db.write(() => {
      if (this.#q.partner.get(partnerId) === undefined) throw new GatehouseError('PARTNER_NOT_FOUND');
      // A key already ending sooner keeps its earlier end: a rotation never lengthens a key's life.
      this.#q.retire.run(retireAt, partnerId, key.kind, retireAt);
      this.#q.insertKey.run(key.id, partnerId, key.kind, key.hash, key.createdAt);
      this.#q.change.run(partnerId, at);
      this.#audit.insert(keyRotated(partnerId, key, retireAt, at));
      return this.#find(partnerId) as PartnerRecord;
    });
  }

  async revokePartnerKey(keyId: string, at: number): Promise<PartnerKeyRecord | null> {
    return this.#db.write(() => {
      const existing = this.#q.key.get(keyId);
      if (existing === undefined) return null;
      if (this.#q.revoke.run(at, keyId).changes > 0) {
        this.#q.change.run(existing.partner_id, at);
        this.#audit.insert(keyRevoked(existing.partner_id, keyId, existing.kind, at));
      }
      const row = this.#q.key.get(keyId);
      return row === undefined ? null : toKey(row);
    });
  }

  async listPartnerChanges(afterSeq: number): Promise<PartnerChanges> {
    // One read transaction, so the partners loaded are at least as new as the log read with them.
    return this.#db.run(() =>
      this.#db.raw.transaction((): PartnerChanges => {
        const changed = this.#q.changed.all(afterSeq);
        const partners = changed.map((c) => this.#find(c.partner_id)).filter((p): p is PartnerRecord => p !== null);
        return { seq: changed.reduce((max, c) => Math.max(max, c.seq), afterSeq), partners };
      })(),
    );
  }
}
