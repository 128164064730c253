/**
 * The embedded default store: one SQLite file through better-sqlite3. Each
 * domain lives in its own module; this class only puts them together and owns
 * the connection's settings. The driver (a native addon) is loaded by
 * {@link openSQLiteStore} on first use, not when this module is imported, so a
 * process on PostgreSQL never loads it.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { GatehouseError } from '../../core/errors.js';
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
import { SQLiteAudit } from './audit.js';
import { SQLiteConsumedValues } from './consumed-values.js';
import { SQLiteDatabase } from './database.js';
import { SQLiteHousekeeping } from './housekeeping.js';
import { SQLiteIdentities } from './identities.js';
import { SQLiteOAuthClients } from './oauth-clients.js';
import { applyMigrations } from './migrations.js';
import { SQLitePartners } from './partners.js';
import { SQLiteProviderSessions } from './provider-sessions.js';
import { SQLiteRevocations } from './revocations.js';
import { toStoreError } from './rows.js';
import { SQLiteSessions } from './sessions.js';
import { SQLiteSigningKeys } from './signing-keys.js';
import { SQLiteUsers } from './users.js';

/** Options of {@link openSQLiteStore}. */
export interface SQLiteStoreOptions {
  /** Database file, or `':memory:'`. Missing parent directories are created. */
  readonly path: string;
  /** How long to wait for another process's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

/**
 * {@link Store} on one SQLite database. Takes ownership of `db`: configures
 * it, migrates it and closes it in {@link SQLiteStore.close}. Prefer
 * {@link openSQLiteStore}, which also creates the file safely.
 */
export class SQLiteStore implements Store {
  readonly #db: SQLiteDatabase;
  readonly #users: SQLiteUsers;
  readonly #sessions: SQLiteSessions;
  readonly #revocations: SQLiteRevocations;
  readonly #audit: SQLiteAudit;
  readonly #keys: SQLiteSigningKeys;
  readonly #housekeeping: SQLiteHousekeeping;
  readonly #identities: SQLiteIdentities;
  readonly #providerSessions: SQLiteProviderSessions;
  readonly #consumed: SQLiteConsumedValues;
  readonly #oauthClients: SQLiteOAuthClients;
  readonly #partners: SQLitePartners;

  constructor(db: Database.Database, options: { readonly busyTimeoutMs?: number } = {}) {
    // busy_timeout first, so that switching to WAL waits for other processes too.
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
    // loss, and a lost logout or reuse detection would bring a session back.
    // Each commit then waits for the disk; rotations share commits (see rotation.ts) to soften that.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Statements can only be prepared against tables that exist.
    applyMigrations(db);
    this.#db = new SQLiteDatabase(db);
    this.#revocations = new SQLiteRevocations(this.#db);
    this.#audit = new SQLiteAudit(this.#db);
    this.#users = new SQLiteUsers(this.#db, this.#revocations, this.#audit);
    this.#sessions = new SQLiteSessions(this.#db, this.#revocations, this.#audit);
    this.#keys = new SQLiteSigningKeys(this.#db);
    this.#identities = new SQLiteIdentities(this.#db, this.#audit);
    this.#providerSessions = new SQLiteProviderSessions(this.#db, this.#revocations, this.#audit);
    this.#oauthClients = new SQLiteOAuthClients(this.#db, this.#revocations, this.#audit);
    this.#partners = new SQLitePartners(this.#db, this.#audit);
    this.#consumed = new SQLiteConsumedValues(this.#db);
    this.#housekeeping = new SQLiteHousekeeping(this.#db, this.#consumed);
  }

  async migrate(): Promise<void> { this.#db.run(() => applyMigrations(this.#db.raw)); }
  async close(): Promise<void> { if (this.#db.raw.open) this.#db.raw.close(); }

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

/**
 * Opens (creating if needed) the SQLite database at `options.path` and
 * migrates it. A new file is created with mode 0600: it holds password hashes.
 * Throws `GatehouseError('STORE_UNAVAILABLE')` when the file cannot be opened,
 * is not a database, or was written by a newer Gatehouse.
 */
export function openSQLiteStore(options: SQLiteStoreOptions): SQLiteStore {
  let db: Database.Database | undefined;
  try {
    if (options.path !== ':memory:' && options.path !== '') {
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      createPrivateFile(options.path);
    }
    const Driver = loadDriver();
    db = new Driver(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    return new SQLiteStore(db, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  } catch (error) {
    if (db?.open) db.close();
    const mapped = toStoreError(error);
    throw mapped instanceof GatehouseError ? mapped : new GatehouseError('STORE_UNAVAILABLE', { cause: error });
  }
}

let driver: typeof Database | undefined;

/**
 * better-sqlite3, loaded once, synchronously (it is CommonJS), so that
 * {@link openSQLiteStore} stays synchronous and importing the package loads
 * no native code a configuration does not use.
 */
function loadDriver(): typeof Database {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return driver;
}

/** Creates `path` with mode 0600 unless it exists; SQLite would use 0644. */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
