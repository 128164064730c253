import { randomUUID } from 'node:crypto';
import type { RolesChanged, SessionRecord, UserChange, UserRecord } from '../store/store.js';
import { auditNote, logRecorded } from './auth-audit.js';
import type { AuthServiceDeps } from './auth-types.js';
import { GatehouseError } from './errors.js';
import { checkPasswordPolicy, serviceContextWords } from './password.js';
import { applyRoleChange, checkRoleChange, checkRoleCount, checkRoleNames, type RoleChange } from './roles.js';
import { normalizeUsername } from './username.js';

/**
 * Administration of users and their sessions, as the CLI does it: create,
 * change passwords and roles, disable, revoke. Every change commits with its
 * audit record and reaches every instance through the revocation list.
 * {@link AuthService} carries these methods, beside the session lifecycle.
 */
export class UserAdministration {
  readonly #d: AuthServiceDeps;
  /** Words no new password may be built on besides the username (ASVS 6.2.11). */
  readonly #contextWords: readonly string[];

  constructor(deps: AuthServiceDeps) {
    this.#d = deps;
    this.#contextWords = serviceContextWords(deps.config.publicOrigin);
  }

  /** Creates a user after applying the username rules and password policy. */
  async createUser(input: { username: string; password: string; roles?: readonly string[] }): Promise<UserRecord> {
    const username = normalizeUsername(input.username);
    const roles = [...new Set(input.roles ?? [])];
    checkRoleNames(roles);
    checkRoleCount(roles);
    checkPasswordPolicy(input.password, { username, contextWords: this.#contextWords });
    const passwordHash = await this.#d.hasher.hash(input.password);
    const note = auditNote('user_created', null, { username });
    const user = await this.#d.store.createUser({ id: randomUUID(), username, passwordHash, roles, createdAt: this.#d.clock.now() }, note);
    logRecorded(this.#d, note, user.createdAt, user.id);
    return user;
  }

  /** Replaces the password and ends every session of the user. */
  async setPassword(username: string, password: string): Promise<string[]> {
    const user = await this.#requireUser(username);
    checkPasswordPolicy(password, { username: user.username, contextWords: this.#contextWords });
    const hash = await this.#d.hasher.hash(password);
    const now = this.#d.clock.now();
    const note = auditNote('password_changed', null);
    const change = await this.#d.store.changePassword(user.id, hash, now, note);
    this.#userChanged(user.id, change, now);
    logRecorded(this.#d, note, now, user.id);
    return [...change.revokedSessionIds];
  }

  /** Disables the user and ends every session. */
  async disableUser(username: string): Promise<string[]> {
    const user = await this.#requireUser(username);
    const now = this.#d.clock.now();
    const note = auditNote('user_disabled', null);
    const change = await this.#d.store.disableUser(user.id, now, note);
    this.#userChanged(user.id, change, now);
    logRecorded(this.#d, note, now, user.id);
    return [...change.revokedSessionIds];
  }

  /**
   * Changes a user's roles: `{ set }` replaces them, `{ add, remove }` edits
   * them (in one store transaction, so concurrent edits do not undo each
   * other). On the next request, every instance refuses the user's access
   * tokens that still carry the old roles (401 `TOKEN_EXPIRED`: the client
   * refreshes and gets the new ones); sessions stay signed in. Changing nothing
   * changes nothing (no new version, no audit event).
   *
   * @throws GatehouseError `USER_NOT_FOUND`, `ROLE_INVALID`
   * @example
   * ```ts
   * await gatehouse.auth.changeRoles('alice', { remove: ['admin'] });
   * await gatehouse.auth.changeRoles('bob', { set: ['user', 'billing'] });
   * ```
   */
  async changeRoles(username: string, change: RoleChange): Promise<RolesChanged> {
    checkRoleChange(change);
    const user = await this.#requireUser(username);
    const now = this.#d.clock.now();
    const note = auditNote('roles_changed', null);
    const outcome = await this.#d.store.changeRoles(
      user.id,
      (current) => {
        const next = applyRoleChange(current, change);
        checkRoleCount(next);
        return next;
      },
      now,
      note,
    );
    if (!outcome.changed) return outcome;
    this.#userChanged(user.id, { version: outcome.user.version, revokedSessionIds: [] }, now);
    logRecorded(this.#d, note, now, user.id);
    return outcome;
  }

  /** Revokes one session by id, whoever owns it (administration). */
  async adminRevokeSession(sessionId: string): Promise<SessionRecord> {
    const now = this.#d.clock.now();
    const note = auditNote('session_revoked', null, { by: 'admin' });
    const ended = await this.#d.store.revokeSession(sessionId, 'admin', now, note);
    if (ended === null) throw new GatehouseError('SESSION_NOT_FOUND');
    this.#d.revocations.revokeSession(sessionId, now);
    logRecorded(this.#d, note, now, ended.userId, sessionId);
    return ended;
  }

  /** Revokes every session of a user (administration). */
  async adminRevokeUserSessions(username: string): Promise<string[]> {
    const user = await this.#requireUser(username);
    const now = this.#d.clock.now();
    const note = auditNote('sessions_revoked_all', null, { by: 'admin' });
    const ids = await this.#d.store.revokeUserSessions(user.id, 'admin', now, note);
    for (const id of ids) this.#d.revocations.revokeSession(id, now);
    logRecorded(this.#d, note, now, user.id);
    return ids;
  }

  /**
   * Tells this instance's revocation list, and through the feed every other
   * instance, what a committed user change did: the sessions it ended, and the
   * new user version that makes every earlier access token stale.
   */
  #userChanged(userId: string, change: UserChange, at: number): void {
    for (const id of change.revokedSessionIds) this.#d.revocations.revokeSession(id, at);
    this.#d.revocations.markUserChanged(userId, change.version, at);
  }

  async findUser(username: string): Promise<UserRecord> {
    return this.#requireUser(username);
  }

  async #requireUser(username: string): Promise<UserRecord> {
    const user = await this.#d.store.findUserByUsername(normalizeUsername(username));
    if (user === null) throw new GatehouseError('USER_NOT_FOUND');
    return user;
  }
}
