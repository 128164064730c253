/**
 * Versioned schema for the PostgreSQL store. Migrations are append-only: never
 * edit one that has shipped, add a new version instead, because databases in
 * the field already recorded the old one as applied. The history is this
 * store's own; it does not follow the SQLite store's version numbers.
 */

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
    // Times are BIGINT milliseconds, as in the store's records, so no time zone ever enters.
    sql: `
      CREATE TABLE users (
        id                 TEXT PRIMARY KEY,
        username           TEXT NOT NULL UNIQUE,
        password_hash      TEXT NOT NULL,
        roles              TEXT[] NOT NULL,
        disabled           BOOLEAN NOT NULL DEFAULT FALSE,
        created_at         BIGINT NOT NULL,
        updated_at         BIGINT NOT NULL,
        tokens_valid_after BIGINT NOT NULL DEFAULT 0
      );

      CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY,
        user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at          BIGINT NOT NULL,
        last_seen_at        BIGINT NOT NULL,
        idle_expires_at     BIGINT NOT NULL,
        absolute_expires_at BIGINT NOT NULL,
        revoked_at          BIGINT,
        revoke_reason       TEXT,
        user_agent          TEXT,
        ip                  TEXT,
        -- Insertion order, to break ties between sessions created in the same millisecond.
        ord                 BIGINT GENERATED ALWAYS AS IDENTITY
      );
      CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_by_absolute_expiry ON sessions (absolute_expires_at);
      CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
      CREATE INDEX sessions_by_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        generation INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        rotated_at BIGINT
      );
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
      -- The database itself guarantees one live token per session, whatever the code does.
      CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE rotated_at IS NULL;

      -- No foreign keys: events must outlive the sessions purgeExpired deletes.
      CREATE TABLE revocation_events (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('session', 'user')),
        session_id TEXT,
        user_id    TEXT NOT NULL,
        at         BIGINT NOT NULL,
        CHECK ((kind = 'session') = (session_id IS NOT NULL))
      );
      CREATE INDEX revocation_events_by_at ON revocation_events (at);

      -- No foreign keys: failed logins name users that do not exist.
      -- detail is JSON text, not JSONB: JSONB refuses an escaped NUL, which an attempted username may hold.
      CREATE TABLE audit_events (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at         BIGINT NOT NULL,
        type       TEXT NOT NULL,
        user_id    TEXT,
        session_id TEXT,
        ip         TEXT,
        user_agent TEXT,
        detail     TEXT
      );
      CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
      CREATE INDEX audit_events_by_type ON audit_events (type, id);

      -- Private keys arrive encrypted; the store never sees them in the clear.
      CREATE TABLE signing_keys (
        kid                   TEXT PRIMARY KEY,
        alg                   TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
        public_jwk            TEXT NOT NULL,
        encrypted_private_key TEXT NOT NULL,
        created_at            BIGINT NOT NULL,
        activates_at          BIGINT NOT NULL,
        retired_at            BIGINT
      );
    `,
  },
  {
    version: 2,
    name: 'external-identities',
    // Identity links (issuer, subject) -> user; provider sessions (sid, sealed tokens) per Gatehouse session;
    // single-use values. The provider's tokens arrive sealed; the store never sees them in the clear.
    sql: `
      CREATE TABLE identity_links (
        issuer      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        provider_id TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        PRIMARY KEY (issuer, subject)
      );
      CREATE INDEX identity_links_by_user ON identity_links (user_id);

      CREATE TABLE provider_sessions (
        session_id    TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        provider_id   TEXT NOT NULL,
        issuer        TEXT NOT NULL,
        subject       TEXT NOT NULL,
        sid           TEXT,
        sealed_tokens TEXT NOT NULL,
        token_version INTEGER NOT NULL DEFAULT 0,
        updated_at    BIGINT NOT NULL
      );
      -- Back-channel logout finds the sessions of a provider session (sid) or of a provider user (sub) in one look-up.
      CREATE INDEX provider_sessions_by_sid ON provider_sessions (issuer, sid);
      CREATE INDEX provider_sessions_by_subject ON provider_sessions (issuer, subject);

      CREATE TABLE consumed_values (
        key        TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX consumed_values_by_expiry ON consumed_values (expires_at);
    `,
  },
  {
    version: 3,
    name: 'refresh-token-replacement',
    // superseded_at: an unused successor that a retry replaced (presenting it is reuse).
    // replacement: this token replaced such a successor (it is derived differently).
    // The session index gains the generation, for walking a chain in order.
    sql: `
      ALTER TABLE refresh_tokens ADD COLUMN superseded_at BIGINT, ADD COLUMN replacement BOOLEAN NOT NULL DEFAULT FALSE;
      DROP INDEX refresh_tokens_by_session;
      CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id, generation);
    `,
  },
  {
    version: 4,
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
        created_at    BIGINT NOT NULL
      );
      CREATE TABLE oauth_grants (
        session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
        scope      TEXT NOT NULL,
        code_id    TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);
    `,
  },
  {
    version: 5,
    name: 'partners',
    // Keys are kept as SHA-256 hashes of the whole key; their ids are public. partner_changes is the log
    // every instance's key registry reads in order (a revoked key stops everywhere at the next read).
    sql: `
      CREATE TABLE partners (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        origins    TEXT[] NOT NULL,
        scopes     TEXT[] NOT NULL,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE partner_keys (
        id         TEXT PRIMARY KEY,
        partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('publishable', 'secret')),
        hash       TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        revoked_at BIGINT
      );
      CREATE INDEX partner_keys_by_partner ON partner_keys (partner_id, created_at);

      CREATE TABLE partner_changes (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partner_id TEXT NOT NULL,
        at         BIGINT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'dpop-bound-grants',
    // A native app's session bound to its DPoP key (RFC 9449): refreshes must prove the same key.
    sql: `
      ALTER TABLE oauth_grants ADD COLUMN dpop_jkt TEXT;
    `,
  },
  {
    version: 7,
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
