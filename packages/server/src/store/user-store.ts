import type { AuditNote } from './audit-store.js';

/**
 * The users part of the storage contract: accounts, their password hashes,
 * roles and the version that makes access tokens from before a change stale.
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
   * Grows by one with every change to the user (password, roles, disabled or
   * enabled), in the transaction that makes it. Access tokens carry the version
   * their roles were read from; one older than the newest version a `user`
   * revocation event announced is stale (the client must refresh).
   */
  readonly version: number;
}

/** What a change to a user did, so that every instance can be told. */
export interface UserChange {
  /** The user's version after the change. */
  readonly version: number;
  /** The sessions the change ended, in the same transaction. */
  readonly revokedSessionIds: readonly string[];
}

/** Outcome of {@link UserStore.changeRoles}. */
export interface RolesChanged {
  /** The user after the change (as it was, when `changed` is false). */
  readonly user: UserRecord;
  /** The roles before the change, as read in its transaction. */
  readonly previousRoles: readonly string[];
  readonly changed: boolean;
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
  /*
   * Every change below bumps the user's version and appends a `user` revocation
   * event carrying the new version, in one transaction with the change. Each
   * rejects with `GatehouseError('USER_NOT_FOUND')` for an unknown id, changing nothing.
   */
  /** Replaces the password hash and revokes every session of the user, atomically. */
  changePassword(userId: string, passwordHash: string, at: number, audit?: AuditNote): Promise<UserChange>;
  /** Disables the user and revokes every session, atomically. */
  disableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange>;
  enableUser(userId: string, at: number, audit?: AuditNote): Promise<UserChange>;
  /**
   * Reads the roles, lets `edit` compute the new ones and stores them, in one
   * transaction, so that concurrent edits queue and none undoes another. When
   * the result equals the roles read (same roles, same order), nothing is
   * written, not even the audit event. An error thrown by `edit` aborts the
   * change and is rethrown. The audit event gets `detail.from` and `detail.to`
   * (the roles before and after, space-separated).
   */
  changeRoles(userId: string, edit: (roles: readonly string[]) => readonly string[], at: number, audit?: AuditNote): Promise<RolesChanged>;
}
