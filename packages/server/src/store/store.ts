/**
 * The storage contract: one interface per domain (users, sessions and their
 * refresh-token chains, revocation events, audit, signing keys), composed into
 * {@link Store}. A new domain adds its own `*-store.ts` here and its own module
 * in each adapter, and joins {@link Store}.
 *
 * Times are milliseconds since the Unix epoch. Secrets never reach the store:
 * refresh tokens arrive as hashes, passwords as Argon2id hashes.
 */
import type { AuditStore } from './audit-store.js';
import type { ConsumeOnceStore } from './consume-once-store.js';
import type { IdentityStore } from './identity-store.js';
import type { OAuthClientStore } from './oauth-client-store.js';
import type { PartnerStore } from './partner-store.js';
import type { ProviderSessionStore } from './provider-session-store.js';
import type { RevocationStore } from './revocation-store.js';
import type { SessionStore } from './session-store.js';
import type { SigningKeyStore } from './signing-key-store.js';
import type { UserStore } from './user-store.js';

export type * from './audit-store.js';
export type * from './consume-once-store.js';
export type * from './identity-store.js';
export type * from './oauth-client-store.js';
export type * from './partner-store.js';
export type * from './provider-session-store.js';
export type * from './revocation-store.js';
export type * from './session-store.js';
export type * from './signing-key-store.js';
export type * from './user-store.js';

/** Housekeeping: what ended long enough ago goes. */
export interface HousekeepingStore {
  /**
   * Deletes sessions and refresh tokens that ended before `before` (their
   * provider sessions with them), older revocation events, and single-use
   * records that expired before it. Returns how many sessions went.
   */
  purgeExpired(before: number): Promise<number>;
}

/**
 * Everything stateful Gatehouse keeps. Implementations: SQLite (embedded
 * default); PostgreSQL for many instances. One contract test suite runs
 * against each. Methods reject with `GatehouseError('STORE_UNAVAILABLE')`
 * when the backing database cannot be reached.
 */
export interface Store
  extends UserStore,
    SessionStore,
    RevocationStore,
    AuditStore,
    SigningKeyStore,
    IdentityStore,
    ProviderSessionStore,
    ConsumeOnceStore,
    OAuthClientStore,
    PartnerStore,
    HousekeepingStore {
  /** Creates or upgrades the schema. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
