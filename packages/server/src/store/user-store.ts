import type { AuditNote } from './audit-store.js';

/**
 * The users part of the storage contract: accounts, their password hashes,
 * roles and the "valid after" instant that makes earlier access tokens stale.
 */

export interface UserRecord {
  readonly id: string;
  /** Normalised (NFKC, lower case); unique. */
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /**
   * Access tokens issued before this instant are stale (soft revocation, for
   * example after a role change): the client must refresh to get a new one.
   */
  readonly tokensValidAfter: number;
}

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
}

/**
 * Accounts. Changes that end sessions do so in the same transaction, and a
 * change given an {@link AuditNote} writes it in that transaction too (with
 * the user's id; `at` is the change's time, or `createdAt`).
 */
export interface UserStore {
  /** Rejects with `GatehouseError('USERNAME_TAKEN')` when the username exists. */
  createUser(user: NewUser, audit?: AuditNote): Promise<UserRecord>;
  findUserById(id: string): Promise<UserRecord | null>;
  findUserByUsername(username: string): Promise<UserRecord | null>;
  /**
   * Replaces the password hash and revokes every session of the user, atomically.
   * Returns the revoked session ids. Rejects with `USER_NOT_FOUND`, changing nothing.
   */
  changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<string[]>;
  /** Disables the user and revokes every session, atomically. Returns the revoked session ids. */
  disableUser(userId: string, at: number, audit?: AuditNote): Promise<string[]>;
  enableUser(userId: string, at: number, audit?: AuditNote): Promise<void>;
  /** Replaces the roles and marks earlier access tokens stale (a `user` revocation event). */
  setRoles(userId: string, roles: readonly string[], at: number, audit?: AuditNote): Promise<void>;
}
