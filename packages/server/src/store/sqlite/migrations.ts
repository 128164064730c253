/**
 * Versioned schema for the SQLite store. Migrations are append-only: never edit
 * one that has shipped, add a new version instead, because databases in the
 * field already recorded the old one as applied.
 */
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
import { toStoreError } from './rows.js';

/** One schema step. `version` starts at 1 and grows by one per migration. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration this build knows, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    // STRICT tables so a stray string never lands in an INTEGER time column.
    sql: `
      CREATE TABLE users (
        id                 TEXT PRIMARY KEY,
        username           TEXT NOT NULL UNIQUE,
        password_hash      TEXT NOT NULL,
        roles              TEXT NOT NULL,
        disabled           INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at         INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL,
        tokens_valid_after INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          INTEGER NOT NULL,
        last_seen_at        INTEGER NOT NULL,
        idle_expires_at     INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        revoked_at          INTEGER,
        revoke_reason       TEXT,
        user_agent          TEXT,
        ip                  TEXT
      ) STRICT;
      CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_by_absolute_expiry ON sessions (absolute_expires_at);
      CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
      CREATE INDEX sessions_by_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        generation INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        rotated_at INTEGER
      ) STRICT;
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
      -- The database itself guarantees one live token per session, whatever the code does.
      CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE rotated_at IS NULL;

      -- No foreign keys: events must outlive the sessions purgeExpired deletes.
      CREATE TABLE revocation_events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT NOT NULL CHECK (kind IN ('session', 'user')),
        session_id TEXT,
        user_id    TEXT NOT NULL,
        at         INTEGER NOT NULL,
        CHECK ((kind = 'session') = (session_id IS NOT NULL))
      ) STRICT;
      CREATE INDEX revocation_events_by_at ON revocation_events (at);

      -- No foreign keys: failed logins name users that do not exist.
      CREATE TABLE audit_events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        type       TEXT NOT NULL,
        user_id    TEXT,
        session_id TEXT,
        ip         TEXT,
        user_agent TEXT,
        detail     TEXT
      ) STRICT;
      CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
      CREATE INDEX audit_events_by_type ON audit_events (type, id);
    `,
  },
  {
    version: 2,
    name: 'signing-keys',
    // Private keys arrive encrypted; the store never sees them in the clear.
    sql: `
      CREATE TABLE signing_keys (
        kid                   TEXT PRIMARY KEY,
        alg                   TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
        public_jwk            TEXT NOT NULL,
        encrypted_private_key TEXT NOT NULL,
        created_at            INTEGER NOT NULL,
        activates_at          INTEGER NOT NULL,
        retired_at            INTEGER
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'external-identities',
    // Identity links (issuer, subject) -> user; provider sessions (sid, sealed tokens) per Gatehouse session;
    // single-use values. The provider's tokens arrive sealed; the store never sees them in the clear.
    sql: `
      CREATE TABLE identity_links (
        issuer      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        provider_id TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (issuer, subject)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX identity_links_by_user ON identity_links (user_id);

      CREATE TABLE provider_sessions (
        session_id    TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        provider_id   TEXT NOT NULL,
        issuer        TEXT NOT NULL,
        subject       TEXT NOT NULL,
        sid           TEXT,
        sealed_tokens TEXT NOT NULL,
        token_version INTEGER NOT NULL DEFAULT 0,
        updated_at    INTEGER NOT NULL
      ) STRICT;
      -- Back-channel logout finds the sessions of a provider session (sid) or of a provider user (sub) in one look-up.
      CREATE INDEX provider_sessions_by_sid ON provider_sessions (issuer, sid);
      CREATE INDEX provider_sessions_by_subject ON provider_sessions (issuer, subject);

      CREATE TABLE consumed_values (
        key        TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX consumed_values_by_expiry ON consumed_values (expires_at);
    `,
  },
  {
    version: 4,
    name: 'refresh-token-replacement',
    // superseded_at: an unused successor that a retry replaced (presenting it is reuse).
    // replacement: this token replaced such a successor (it is derived differently).
    // The session index gains the generation, for walking a chain in order.
    sql: `
      ALTER TABLE refresh_tokens ADD COLUMN superseded_at INTEGER;
      ALTER TABLE refresh_tokens ADD COLUMN replacement INTEGER NOT NULL DEFAULT 0 CHECK (replacement IN (0, 1));
      DROP INDEX refresh_tokens_by_session;
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, generation);
    `,
  },
  {
    version: 5,
    name: 'oauth-clients',
    // Registered OAuth clients (secrets as SHA-256 hashes, public JWKS only) and the grant of each native
    // app's session: which client it belongs to, and the authorization code that opened it.
    sql: `
      CREATE TABLE oauth_clients (
        id            TEXT PRIMARY KEY,
        type          TEXT NOT NULL CHECK (type IN ('native', 'machine')),
        redirect_uris TEXT NOT NULL,
        scopes        TEXT NOT NULL,
        secret_hash   TEXT,
        jwks          TEXT,
        created_at    INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE oauth_grants (
        session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
        scope      TEXT NOT NULL,
        code_id    TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);
    `,
  },
  {
    version: 6,
    name: 'partners',
    // Keys are kept as SHA-256 hashes of the whole key; their ids are public. partner_changes is the log
    // every instance's key registry reads in order (a revoked key stops everywhere at the next read).
    sql: `
      CREATE TABLE partners (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        origins    TEXT NOT NULL,
        scopes     TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE partner_keys (
        id         TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('publishable', 'secret')),
        hash       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX partner_keys_by_partner ON partner_keys (partner_id, created_at);

      CREATE TABLE partner_changes (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        partner_id TEXT NOT NULL,
        at         INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 7,
    name: 'dpop-bound-grants',
    // A native app's session bound to its DPoP key (RFC 9449): refreshes must prove the same key.
    sql: `
      ALTER TABLE oauth_grants ADD COLUMN dpop_jkt TEXT;
    `,
  },
  {
    version: 8,
    name: 'user-versions',
    // A user's version replaces the "tokens valid after" instant: a token carries the version its
    // roles were read from, which cannot tie with a change the way a one-second iat could.
    sql: `
      ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE users DROP COLUMN tokens_valid_after;
      ALTER TABLE revocation_events ADD COLUMN user_version INTEGER;
    `,
  },
];

/** The highest migration version recorded in `db`, or 0 for a fresh database. */
export function schemaVersion(db: Database.Database): number {
  try {
    const exists = db
      .prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`)
      .get();
    if (exists === undefined) return 0;
    const row = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get();
    return row?.v ?? 0;
  } catch (error) {
    throw toStoreError(error);
  }
}

/**
 * Brings `db` up to the newest of `migrations` and returns the versions it
 * applied (empty when already current). Everything happens in one IMMEDIATE
 * transaction, so two processes starting together cannot both apply a step,
 * and a failing step leaves the schema as it was.
 *
 * Rejects with `STORE_UNAVAILABLE` when the database was written by a newer
 * Gatehouse: running old code against a newer schema could corrupt it.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration "${m.name}" must have version ${i + 1}.`);
  });
  const known = migrations.length;
  const migrate = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const current = schemaVersion(db);
    if (current > known) {
      throw new GatehouseError('STORE_UNAVAILABLE', {
        message:
          `The database schema is at version ${current}, but this Gatehouse only knows up to version ${known}. ` +
          'It was written by a newer Gatehouse; upgrade Gatehouse instead of downgrading the database.',
      });
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of migrations.slice(current)) {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      applied.push(m.version);
    }
    return applied;
  });
  try {
    return migrate.immediate();
  } catch (error) {
    throw toStoreError(error);
  }
}
