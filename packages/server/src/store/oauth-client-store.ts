/**
 * The OAuth part of the storage contract: registered clients (native apps and
 * machine clients) and the grants that tie a native app's session to the
 * client it was issued to. A client's secret arrives as a hash, never in the
 * clear; a `private_key_jwt` client has public keys only.
 */

/** `native`: a public client (RFC 8252), PKCE, no secret. `machine`: a confidential client (client credentials). */
export type OAuthClientType = 'native' | 'machine';

export interface OAuthClientRecord {
  /** 1-128 letters, digits or `. _ : -`; what the client sends as `client_id`. */
  readonly id: string;
  readonly type: OAuthClientType;
  /** Exact redirect URIs (native clients); empty for machine clients. */
  readonly redirectURIs: readonly string[];
  /** The scopes this client may be granted. */
  readonly scopes: readonly string[];
  /** SHA-256 (hex) of the client secret (`client_secret_basic`), or null. */
  readonly secretHash: string | null;
  /** A public JWK Set, as JSON text, for `private_key_jwt` (RFC 7523), or null. */
  readonly jwks: string | null;
  readonly createdAt: number;
}

/** Which client a native app's session was issued to, and with what scope. */
export interface OAuthGrantRecord {
  readonly sessionId: string;
  readonly clientId: string;
  /** Space-separated granted scopes (may be empty). */
  readonly scope: string;
  /** The id of the authorization code that opened the session: a replayed code finds its session here. */
  readonly codeId: string;
  readonly createdAt: number;
  /**
   * The JWK SHA-256 thumbprint of the DPoP key the session's tokens are bound
   * to (RFC 9449), or null for a bearer session. Every refresh must prove it.
   */
  readonly jkt: string | null;
}

/** The subject under which a client's tokens are revoked in the revocation list (never a user id: those are UUIDs). */
export function clientRevocationSubject(clientId: string): string {
  return `client:${clientId}`;
}

/**
 * The version a client's removal at `at` (ms) announces under its revocation
 * subject. A machine token carries no user version: it is checked with its
 * `iat` (seconds) in its place, so the removal makes every token issued up to
 * and including that second stale, and a client added again later starts clean.
 */
export function clientRemovalVersion(at: number): number {
  return Math.floor(at / 1000) + 1;
}

export interface OAuthClientStore {
  /**
   * Registers a client and, in the same transaction, writes its
   * `oauth_client_added` audit event. Rejects with `CLIENT_ID_TAKEN`
   * (changing nothing) when the id exists.
   */
  createClient(client: OAuthClientRecord): Promise<OAuthClientRecord>;
  findClient(id: string): Promise<OAuthClientRecord | null>;
  /** Every client, by id. */
  listClients(): Promise<OAuthClientRecord[]>;
  /**
   * Removes a client and its grants, and in the same transaction appends a
   * revocation event of kind `user` for `client:<id>` at `at` (so every
   * instance refuses the client's tokens issued before then), ends every
   * session it had been granted (reason `admin`, one revocation event each)
   * and writes its `oauth_client_removed` audit event. Returns the ids of the
   * sessions it ended, in the order they were granted, or null for an
   * unknown id (nothing is changed).
   */
  deleteClient(id: string, at: number): Promise<string[] | null>;
  /** Records the grant of a session just opened for a client. */
  recordGrant(grant: OAuthGrantRecord): Promise<void>;
  /** The grant of a session, or null (a cookie session has none). */
  findGrant(sessionId: string): Promise<OAuthGrantRecord | null>;
  /** The grant an authorization code opened, or null. */
  findGrantByCode(codeId: string): Promise<OAuthGrantRecord | null>;
}
