/**
 * Which Gatehouse user an external identity signs in as. Identities are
 * linked by (issuer, subject) only: an e-mail address, even a verified one,
 * never joins an identity to an existing account, because another provider
 * (or a provider's other tenant) may assert the same address for someone
 * else. Joining an identity to an existing account is an explicit step taken
 * by the signed-in user after re-entering the password (`/link`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { PasswordHasher } from '../core/password.js';
import { normalizeUsername } from '../core/username.js';
import type { IdentityLink, IdentityStore } from '../store/identity-store.js';
import type { AuditNote, Store, UserRecord } from '../store/store.js';

/** An identity a provider or login app vouched for. */
export interface ExternalIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** The configured provider or login app. */
  readonly providerId: string;
  /** Suggestions for the username of a new account; never used to find one. */
  readonly preferredUsername: string | null;
  readonly email: string | null;
}

export class ExternalAccounts {
  readonly #store: Pick<Store, 'findUserById'> & IdentityStore;
  readonly #hasher: PasswordHasher;
  readonly #clock: Clock;

  constructor(deps: { store: Pick<Store, 'findUserById'> & IdentityStore; hasher: PasswordHasher; clock: Clock }) {
    this.#store = deps.store;
    this.#hasher = deps.hasher;
    this.#clock = deps.clock;
  }

  /**
   * The user linked to `identity`; with `createUsers`, a new user linked to
   * it when there is none. Otherwise `OIDC_ACCOUNT_NOT_LINKED`.
   */
  async userFor(identity: ExternalIdentity, options: { readonly createUsers: boolean }): Promise<{ user: UserRecord; created: boolean }> {
    const link = await this.#store.findIdentity(identity.issuer, identity.subject);
    if (link !== null) {
      const user = await this.#store.findUserById(link.userId);
      if (user === null) throw new GatehouseError('OIDC_ACCOUNT_NOT_LINKED');
      return { user, created: false };
    }
    if (!options.createUsers) throw new GatehouseError('OIDC_ACCOUNT_NOT_LINKED');
    // An account that signs in only through its provider: its password is a random one nobody knows,
    // hashed like any other so that a password login for it costs (and answers) the same as for anyone.
    const passwordHash = await this.#hasher.hash(randomBytes(32).toString('base64url'));
    for (const username of usernameCandidates(identity)) {
      try {
        const user = await this.#store.createUserWithIdentity(
          { id: randomUUID(), username, passwordHash, roles: [], createdAt: this.#clock.now() },
          { issuer: identity.issuer, subject: identity.subject, providerId: identity.providerId },
        );
        return { user, created: true };
      } catch (error) {
        if (isGatehouseError(error, 'USERNAME_TAKEN')) continue;
        if (isGatehouseError(error, 'IDENTITY_ALREADY_LINKED')) {
          // Another instance created the account for this identity at the same moment: use it.
          return this.userFor(identity, { createUsers: false });
        }
        throw error;
      }
    }
    throw new GatehouseError('USERNAME_TAKEN');
  }

  /** Links `identity` to `userId`; `IDENTITY_ALREADY_LINKED` when it belongs to another user. */
  async link(userId: string, identity: ExternalIdentity, audit: AuditNote): Promise<IdentityLink> {
    return this.#store.linkIdentity(
      { issuer: identity.issuer, subject: identity.subject, userId, providerId: identity.providerId, createdAt: this.#clock.now() },
      audit,
    );
  }
}

/**
 * Usernames to try for a new account, in order: the provider's preferred
 * username, the e-mail's local part (a name only, never a link), each with a
 * random suffix when taken, and finally one made of the provider id.
 */
function* usernameCandidates(identity: ExternalIdentity): Generator<string> {
  const bases: string[] = [];
  for (const hint of [identity.preferredUsername, identity.email?.split('@')[0] ?? null]) {
    if (hint === null) continue;
    try {
      bases.push(normalizeUsername(hint).slice(0, 48).replace(/[._@+-]+$/, ''));
    } catch {
      // not a usable username; try the next hint
    }
  }
  for (const base of bases) {
    if (base.length >= 3) yield base;
  }
  for (const base of bases) {
    if (base.length >= 1) yield `${base}-${randomBytes(3).toString('hex')}`;
  }
  for (let i = 0; i < 3; i++) yield `${identity.providerId}-${randomBytes(5).toString('hex')}`;
}
