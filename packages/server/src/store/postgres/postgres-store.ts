/**
 * The store for many instances: PostgreSQL through a `pg` connection pool.
 * Behaves like the SQLite store (one contract suite runs against both); what
 * differs is concurrency, so every operation that reads before it writes
 * locks what it read, and every wait is bounded (see connection.ts). Each
 * domain lives in its own module; this class only puts them together.
 */
import type { AuditEvent, AuditFilter, AuditNote, StoredAuditEvent } from '../audit-store.js';
import type { IdentityLink } from '../identity-store.js';
import type { OAuthClientRecord, OAuthGrantRecord } from '../oauth-client-store.js';
import type { NewPartner, NewPartnerKey, PartnerChanges, PartnerKeyRecord, PartnerRecord } from '../partner-store.js';
import type { NewProviderSession, ProviderSessionMatch, ProviderSessionRecord } from '../provider-session-store.js';
import type { RevocationEvent } from '../revocation-store.js';
import type { NewSession, OpenSessionInput, OpenSessionOutcome, RevokeReason, RotateRefreshTokenInput, RotationOutcome, SessionRecord } from '../session-store.js';
import type { NewSigningKey, SigningKeyRecord } from '../signing-key-store.js';
import type { Store } from '../store.js';
import type { NewUser, RolesChanged, UserChange, UserRecord } from '../user-store.js';
import { PostgresAudit } from './audit.js';
import { PostgresConnection } from './connection.js';
import { PostgresConsumedValues } from './consumed-values.js';
import { PostgresHousekeeping } from './housekeeping.js';
import { PostgresIdentities } from './identities.js';
import { PostgresOAuthClients } from './oauth-clients.js';
import { PostgresPartners } from './partners.js';
import { PostgresProviderSessions } from './provider-sessions.js';
import { PostgresRevocations } from './revocations.js';
import { PostgresSessions } from './sessions.js';
import { PostgresSigningKeys } from './signing-keys.js';
import { PostgresUsers } from './users.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Connection string, such as `postgres://gatehouse@db.internal:5432/gatehouse`.
   * What it leaves out comes from the standard `PG*` environment variables
   * (`PGPASSWORD` keeps the password out of configuration files).
   */
  readonly url: string;
  /** Schema that holds Gatehouse's tables; `migrate` creates it. Default `public`. */
  readonly schema?: string;
  /** Most connections the pool opens. Default 10. */
  readonly poolSize?: number;
  /**
   * Upper bound for connecting, for waiting for a pooled connection, and for
   * each statement (server-side `statement_timeout` and `lock_timeout`, plus a
   * client-side read timeout half a second later, for a database that stopped
   * answering). Migrations are exempt, except for connecting. Default 3000.
   */
  readonly timeoutMs?: number;
  /** Rows `purgeExpired` deletes per statement, so it never holds locks for long. Default 500. */
  readonly purgeBatchSize?: number;
  /** Told about connections that failed while idle in the pool (nobody is waiting on them). */
  readonly onIdleError?: (error: Error) => void;
}

/**
 * {@link Store} on PostgreSQL. Create it with `openPostgresStore` (which loads
 * `pg` only when called); call
 * {@link PostgresStore.migrate} (or {@link PostgresStore.requireCurrentSchema}
 * when migrations are run separately) before use.
 */
export class PostgresStore implements Store {
  readonly #db: PostgresConnection;
  readonly #users: PostgresUsers;
  readonly #sessions: PostgresSessions;
  readonly #revocations: PostgresRevocations;
  readonly #audit: PostgresAudit;
  readonly #keys: PostgresSigningKeys;
  readonly #housekeeping: PostgresHousekeeping;
  readonly #identities: PostgresIdentities;
  readonly #providerSessions: PostgresProviderSessions;
  readonly #consumed: PostgresConsumedValues;
  readonly #oauthClients: PostgresOAuthClients;
  readonly #partners: PostgresPartners;

  constructor(options: PostgresStoreOptions) {
    this.#db = new PostgresConnection(options);
    this.#users = new PostgresUsers(this.#db);
    this.#sessions = new PostgresSessions(this.#db);
    this.#revocations = new PostgresRevocations(this.#db);
    this.#audit = new PostgresAudit(this.#db);
    this.#keys = new PostgresSigningKeys(this.#db);
    const batchSize = Math.max(1, Math.trunc(options.purgeBatchSize ?? 500));
    this.#identities = new PostgresIdentities(this.#db);
    this.#providerSessions = new PostgresProviderSessions(this.#db);
    this.#oauthClients = new PostgresOAuthClients(this.#db);
    this.#partners = new PostgresPartners(this.#db);
    this.#consumed = new PostgresConsumedValues(this.#db, batchSize);
    this.#housekeeping = new PostgresHousekeeping(this.#db, batchSize, this.#consumed);
  }

  /** Creates or upgrades the schema, waiting for another instance that is migrating. */
  migrate(): Promise<void> { return this.#db.migrate(); }
  /** Rejects with `STORE_UNAVAILABLE` unless the schema is exactly at the version this build needs. */
  requireCurrentSchema(): Promise<void> { return this.#db.requireCurrentSchema(); }
  close(): Promise<void> { return this.#db.close(); }

  createUser(user: NewUser, audit?: AuditNote): Promise<UserRecord> { return this.#users.createUser(user, audit); }
  findUserById(id: string): Promise<UserRecord | null> { return this.#users.findUserById(id); }
  findUserByUsername(username: string): Promise<UserRecord | null> { return this.#users.findUserByUsername(username); }
  changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<UserChange> { return this.#users.changePassword(userId, passwordHash, at, audit); }
  disableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> { return this.#users.disableUser(userId, at, audit); }
  enableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange> { return this.#users.enableUser(userId, at, audit); }
  changeRoles(userId: string, edit: (roles: readonly string[]) => readonly string[], at: number, audit?: AuditNote): Promise<RolesChanged> { return this.#users.changeRoles(userId, edit, at, audit); }

  openSession(input: OpenSessionInput): Promise<OpenSessionOutcome> { return this.#sessions.openSession(input); }
  createSession(session: NewSession, refreshTokenHash: string): Promise<SessionRecord> { return this.#sessions.createSession(session, refreshTokenHash); }
  findSession(id: string): Promise<SessionRecord | null> { return this.#sessions.findSession(id); }
  findSessionByRefreshTokenHash(hash: string): Promise<SessionRecord | null> { return this.#sessions.findSessionByRefreshTokenHash(hash); }
  listActiveSessions(userId: string, now: number): Promise<SessionRecord[]> { return this.#sessions.listActiveSessions(userId, now); }
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> { return this.#sessions.rotateRefreshToken(input); }
  revokeSession(id: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<SessionRecord | null> { return this.#sessions.revokeSession(id, reason, at, audit); }
  revokeUserSessions(userId: string, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> { return this.#sessions.revokeUserSessions(userId, reason, at, audit); }

  listRevocations(afterSeq: number, notBefore: number): Promise<RevocationEvent[]> { return this.#revocations.listRevocations(afterSeq, notBefore); }

  appendAudit(event: AuditEvent): Promise<void> { return this.#audit.appendAudit(event); }
  listAudit(filter?: AuditFilter): Promise<StoredAuditEvent[]> { return this.#audit.listAudit(filter); }

  purgeExpired(before: number): Promise<number> { return this.#housekeeping.purgeExpired(before); }

  findIdentity(issuer: string, subject: string): Promise<IdentityLink | null> { return this.#identities.findIdentity(issuer, subject); }
  linkIdentity(link: IdentityLink, audit?: AuditNote): Promise<IdentityLink> { return this.#identities.linkIdentity(link, audit); }
  createUserWithIdentity(user: NewUser, link: Omit<IdentityLink, 'userId' | 'createdAt'>): Promise<UserRecord> { return this.#identities.createUserWithIdentity(user, link); }
  listIdentities(userId: string): Promise<IdentityLink[]> { return this.#identities.listIdentities(userId); }

  saveProviderSession(record: NewProviderSession): Promise<void> { return this.#providerSessions.saveProviderSession(record); }
  findProviderSession(sessionId: string): Promise<ProviderSessionRecord | null> { return this.#providerSessions.findProviderSession(sessionId); }
  replaceProviderTokens(sessionId: string, expectedVersion: number, sealedTokens: string, at: number): Promise<boolean> { return this.#providerSessions.replaceProviderTokens(sessionId, expectedVersion, sealedTokens, at); }
  revokeProviderSessions(match: ProviderSessionMatch, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]> { return this.#providerSessions.revokeProviderSessions(match, reason, at, audit); }

  consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> { return this.#consumed.consumeOnce(key, expiresAt, now); }
  purgeConsumed(before: number): Promise<number> { return this.#consumed.purgeConsumed(before); }

  createClient(client: OAuthClientRecord): Promise<OAuthClientRecord> { return this.#oauthClients.createClient(client); }
  findClient(id: string): Promise<OAuthClientRecord | null> { return this.#oauthClients.findClient(id); }
  listClients(): Promise<OAuthClientRecord[]> { return this.#oauthClients.listClients(); }
  deleteClient(id: string, at: number): Promise<string[] | null> { return this.#oauthClients.deleteClient(id, at); }
  recordGrant(grant: OAuthGrantRecord): Promise<void> { return this.#oauthClients.recordGrant(grant); }
  findGrant(sessionId: string): Promise<OAuthGrantRecord | null> { return this.#oauthClients.findGrant(sessionId); }
  findGrantByCode(codeId: string): Promise<OAuthGrantRecord | null> { return this.#oauthClients.findGrantByCode(codeId); }
  createPartner(partner: NewPartner, keys: readonly NewPartnerKey[]): Promise<PartnerRecord> { return this.#partners.createPartner(partner, keys); }
  findPartner(id: string): Promise<PartnerRecord | null> { return this.#partners.findPartner(id); }
  listPartners(): Promise<PartnerRecord[]> { return this.#partners.listPartners(); }
  rotatePartnerKey(partnerId: string, key: NewPartnerKey, retireAt: number, at: number): Promise<PartnerRecord> { return this.#partners.rotatePartnerKey(partnerId, key, retireAt, at); }
  revokePartnerKey(keyId: string, at: number): Promise<PartnerKeyRecord | null> { return this.#partners.revokePartnerKey(keyId, at); }
  listPartnerChanges(afterSeq: number): Promise<PartnerChanges> { return this.#partners.listPartnerChanges(afterSeq); }

  insertSigningKey(key: NewSigningKey): Promise<SigningKeyRecord> { return this.#keys.insertSigningKey(key); }
  listSigningKeys(): Promise<SigningKeyRecord[]> { return this.#keys.listSigningKeys(); }
  deleteSigningKey(kid: string): Promise<boolean> { return this.#keys.deleteSigningKey(kid); }
}
