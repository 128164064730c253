/**
 * The provider-sessions part of the storage contract: for a Gatehouse
 * session opened through an OpenID provider, the provider's session id
 * (`sid`, for back-channel logout) and its tokens, sealed by Gatehouse
 * (`core/key-encryption.ts`) before they reach the store.
 */
import type { AuditNote, RevokeReason } from './store.js';

export interface ProviderSessionRecord {
  /** The Gatehouse session; one provider session each. */
  readonly sessionId: string;
  readonly providerId: string;
  readonly issuer: string;
  readonly subject: string;
  /** The provider's `sid` claim, or null when it sent none. */
  readonly sid: string | null;
  /** The provider's tokens, encrypted; opaque to the store. */
  readonly sealedTokens: string;
  /** Grows by one on every replacement of the tokens (optimistic concurrency between instances). */
  readonly tokenVersion: number;
  readonly updatedAt: number;
}

export type NewProviderSession = Omit<ProviderSessionRecord, 'tokenVersion'>;

/** Which provider sessions a back-channel logout names: its `sid`, its `sub`, or both. */
export interface ProviderSessionMatch {
  readonly issuer: string;
  readonly sid?: string;
  readonly subject?: string;
}

export interface ProviderSessionStore {
  /** Records the provider session of a Gatehouse session (version 0). `SESSION_NOT_FOUND` when the session does not exist. */
  saveProviderSession(record: NewProviderSession): Promise<void>;
  findProviderSession(sessionId: string): Promise<ProviderSessionRecord | null>;
  /**
   * Replaces the sealed tokens if the version is still `expectedVersion`
   * (another instance may have refreshed them first); true when replaced.
   */
  replaceProviderTokens(sessionId: string, expectedVersion: number, sealedTokens: string, at: number): Promise<boolean>;
  /**
   * Ends every live Gatehouse session whose provider session matches, with
   * their revocation events, in one transaction (an indexed look-up by
   * issuer and sid or subject). With `audit`, one event per ended session
   * commits with it. Returns the ended session ids.
   */
  revokeProviderSessions(match: ProviderSessionMatch, reason: RevokeReason, at: number, audit?: AuditNote): Promise<string[]>;
}
