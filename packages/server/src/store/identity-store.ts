/**
 * The identity-links part of the storage contract: which Gatehouse user an
 * external identity (an OpenID provider's or a login app's) signs in as.
 * An identity is its (issuer, subject) pair and nothing else: never an e-mail
 * address, which another provider may assert for someone else.
 */
import type { AuditNote, NewUser, UserRecord } from './store.js';

export interface IdentityLink {
  /** The issuer identifier exactly as the verified token carried it. */
  readonly issuer: string;
  readonly subject: string;
  readonly userId: string;
  /** The configured provider or login app it was linked through (for display; not part of the key). */
  readonly providerId: string;
  readonly createdAt: number;
}

export interface IdentityStore {
  /** The link for (issuer, subject), or null. */
  findIdentity(issuer: string, subject: string): Promise<IdentityLink | null>;
  /**
   * Links an identity to an existing user. Linking the same identity to the
   * same user again returns the existing link; to another user it rejects
   * with `IDENTITY_ALREADY_LINKED` and changes nothing. With `audit`, a new
   * link's event commits with it.
   */
  linkIdentity(link: IdentityLink, audit?: AuditNote): Promise<IdentityLink>;
  /**
   * Creates a user and its first link in one transaction. Rejects with
   * `USERNAME_TAKEN` or `IDENTITY_ALREADY_LINKED` (creating nothing).
   */
  createUserWithIdentity(user: NewUser, link: Omit<IdentityLink, 'userId' | 'createdAt'>): Promise<UserRecord>;
  /** The user's links, oldest first. */
  listIdentities(userId: string): Promise<IdentityLink[]>;
}
