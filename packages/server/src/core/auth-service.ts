import { randomBytes } from 'node:crypto';
import type { AuditDetail, AuditEvent, SessionRecord, UserRecord } from '../store/store.js';
import { auditActor, auditNote, auditNow, logRecorded, MAX_USER_AGENT_LENGTH } from './auth-audit.js';
import { publicUser, type AuthServiceDeps, type ClientContext, type IssuedSession } from './auth-types.js';
import { mintCSRFToken } from './csrf.js';
import { GatehouseError } from './errors.js';
import { rotateRefreshToken } from './refresh-rotation.js';
import { generateRefreshToken, hashRefreshToken, isWellFormedRefreshToken } from './refresh-token.js';
import { normalizeUsername } from './username.js';
import { UserAdministration } from './user-administration.js';

export { publicUser, type AuthServiceDeps, type ClientContext, type IssuedSession, type PublicUser } from './auth-types.js';

/**
 * Session lifecycle without HTTP: sign in, rotate, sign out, revoke. Every
 * rule about who may hold a session lives here; the HTTP layer only moves
 * cookies and maps errors to statuses.
 */
export class AuthService extends UserAdministration {
  readonly #d: AuthServiceDeps;

  constructor(deps: AuthServiceDeps) {
    super(deps);
    this.#d = deps;
  }

  /**
   * Checks a username and password and opens a new session. Unknown users and
   * wrong passwords fail identically (`INVALID_CREDENTIALS`), after the same
   * Argon2id work.
   */
  async login(input: { username: string; password: string }, client: ClientContext): Promise<IssuedSession> {
    return this.#withPassword(input, client, async (user, throttleKey) => {
      const opened = await this.#openSession(user.id, client, { passwordHash: user.passwordHash });
      if (opened.status === 'opened') return opened.issued;
      // A password change or disable committed while the password was being verified: no session.
      // Not judged (nothing counts against the throttle), as if the attempt had come a moment later.
      await auditNow(this.#d, 'login_failed', client, { userId: user.id, detail: { username: throttleKey } });
      throw new GatehouseError('INVALID_CREDENTIALS');
    });
  }

  /**
   * Checks a username and password exactly as {@link login} does (throttled,
   * the same answers and work for unknown users, failures audited) but opens
   * no session: for a sign-in whose session is opened later, such as an OAuth
   * authorization code redeemed by a native app (see `src/oauth`). Returns the
   * user; `INVALID_CREDENTIALS` otherwise.
   */
  async verifyPassword(input: { username: string; password: string }, client: ClientContext): Promise<UserRecord> {
    return this.#withPassword(input, client, async (user) => user);
  }

  /** The shared body of login and verifyPassword: throttle, judge the password, then `onSuccess`. */
  async #withPassword<T>(
    input: { username: string; password: string },
    client: ClientContext,
    onSuccess: (user: UserRecord, throttleKey: string) => Promise<T>,
  ): Promise<T> {
    const { store, hasher, throttle } = this.#d;
    let username: string | null;
    try {
      username = normalizeUsername(input.username);
    } catch {
      username = null;
    }
    // An unparseable username is throttled under its raw form so that it behaves like any unknown user.
    const throttleKey = username ?? input.username.slice(0, 128);
    // Counted as a failure from here on, so parallel guesses cannot all slip past the check.
    const decision = await throttle.begin(throttleKey, client.ip);
    if (!decision.allowed) {
      await this.#auditRefusal('login_throttled', client, { detail: { username: throttleKey } });
      throw new GatehouseError('LOGIN_THROTTLED', { headers: { 'retry-after': String(decision.retryAfterSeconds) } });
    }
    // Until the password has been judged, a failure (the store is down) takes the count back:
    // an attempt that could not be judged is no failed password.
    let judged = false;
    try {
      const user = username === null ? null : await store.findUserByUsername(username);
      const passwordOK = user === null ? await hasher.verifyDummy(input.password) : await hasher.verify(user.passwordHash, input.password);
      if (user === null || !passwordOK || user.disabled) {
        judged = true;
        await auditNow(this.#d, 'login_failed', client, { userId: user?.id ?? null, detail: { username: throttleKey } });
        throw new GatehouseError('INVALID_CREDENTIALS');
      }
      const result = await onSuccess(user, throttleKey);
      judged = true;
      await decision.attempt.succeeded();
      return result;
    } finally {
      if (!judged) await decision.attempt.abandoned();
    }
  }

  /**
   * Opens a session for a user whom someone else authenticated: an OpenID
   * provider, or a trusted login app (see `src/oidc/`). The same session,
   * cookies and rules as a password login; `FORBIDDEN` for a disabled user.
   * `detail` (method, provider) goes into the audit record. `jkt` binds the
   * access token to a DPoP key (`cnf.jkt`, RFC 9449): a native app's token
   * request that came with a proof.
   */
  async loginExternal(userId: string, client: ClientContext, detail: Readonly<Record<string, string>>, binding: { readonly jkt?: string } = {}): Promise<IssuedSession> {
    const opened = await this.#openSession(userId, client, { detail, ...(binding.jkt === undefined ? {} : { jkt: binding.jkt }) });
    if (opened.status === 'refused') {
      await auditNow(this.#d, 'login_failed', client, { userId, detail });
      throw new GatehouseError('FORBIDDEN', { message: 'This account cannot sign in.' });
    }
    return opened.issued;
  }

  /**
   * The sign-in's session, its tokens and its `login_succeeded` record, in
   * one store transaction that also re-reads the user: a password change
   * (with `passwordHash`, the hash that was verified) or disable that
   * committed meanwhile refuses it, and the first access token carries the
   * roles as committed. The record's log line follows the commit.
   */
  async #openSession(
    userId: string,
    client: ClientContext,
    options: { readonly passwordHash?: string; readonly detail?: AuditDetail; readonly jkt?: string },
  ): Promise<{ status: 'opened'; issued: IssuedSession } | { status: 'refused' }> {
    const now = this.#d.clock.now();
    const { session: sessionConfig } = this.#d.config;
    const refreshToken = generateRefreshToken();
    const note = auditNote('login_succeeded', client, options.detail);
    const opened = await this.#d.store.openSession({
      session: {
        // A fresh id on every login: a session id planted before sign-in is never promoted (fixation).
        id: randomBytes(16).toString('base64url'),
        userId,
        createdAt: now,
        idleExpiresAt: now + Math.min(sessionConfig.idleTimeoutSeconds, sessionConfig.absoluteTimeoutSeconds) * 1000,
        absoluteExpiresAt: now + sessionConfig.absoluteTimeoutSeconds * 1000,
        userAgent: client.userAgent === null ? null : client.userAgent.slice(0, MAX_USER_AGENT_LENGTH),
        ip: client.ip,
      },
      refreshTokenHash: hashRefreshToken(refreshToken),
      ...(options.passwordHash === undefined ? {} : { passwordHash: options.passwordHash }),
      audit: note,
    });
    if (opened.status === 'refused') return opened;
    const { session, user } = opened;
    logRecorded(this.#d, note, now, user.id, session.id);
    const csrfToken = mintCSRFToken(this.#d.keys.csrf, { kind: 'session', id: session.id });
    return { status: 'opened', issued: await this.#issue(user, session, refreshToken, csrfToken, options.jkt) };
  }

  async #issue(user: UserRecord, session: SessionRecord, refreshToken: string, csrfToken: string | undefined, jkt?: string): Promise<IssuedSession> {
    const access = await this.#d.tokens.issue({
      userId: user.id,
      username: user.username,
      roles: user.roles,
      // The version the roles were read from: once any instance learns of a later change, this token is stale.
      userVersion: user.version,
      sessionId: session.id,
      notAfter: session.absoluteExpiresAt,
      ...(jkt === undefined ? {} : { jkt }),
    });
    return { user: publicUser(user), session, accessToken: access.token, accessTokenExpiresAt: access.claims.exp * 1000, refreshToken, csrfToken };
  }

  /**
   * The session a refresh token belongs to, or null. Read-only: lets the HTTP
   * layer check the CSRF token against the session before anything rotates.
   */
  async sessionForRefreshToken(refreshToken: string): Promise<SessionRecord | null> {
    if (!isWellFormedRefreshToken(refreshToken)) return null;
    return this.#d.store.findSessionByRefreshTokenHash(hashRefreshToken(refreshToken));
  }

  /**
   * Rotates a refresh token (see `core/refresh-rotation.ts` for the rules):
   * the next access token and refresh token, or `REFRESH_TOKEN_INVALID`,
   * `REFRESH_TOKEN_REVOKED` or `REFRESH_TOKEN_REUSED`. `jkt` binds the new
   * access token to a DPoP key; the caller has checked that the session is
   * bound to that key.
   */
  async refresh(refreshToken: string, client: ClientContext, binding: { readonly jkt?: string } = {}): Promise<IssuedSession> {
    const rotated = await rotateRefreshToken(this.#d, refreshToken, auditActor(client));
    return this.#issue(rotated.user, rotated.session, rotated.refreshToken, undefined, binding.jkt);
  }

  /** Ends a session. Idempotent. */
  async logout(sessionId: string, client: ClientContext): Promise<void> {
    const now = this.#d.clock.now();
    const note = auditNote('logout', client);
    const ended = await this.#d.store.revokeSession(sessionId, 'logout', now, note);
    this.#d.revocations.revokeSession(sessionId, now);
    if (ended !== null) logRecorded(this.#d, note, now, ended.userId, sessionId);
  }

  /** The user's live sessions, newest first. */
  async listSessions(userId: string): Promise<SessionRecord[]> {
    return this.#d.store.listActiveSessions(userId, this.#d.clock.now());
  }

  /**
   * Revokes one of the user's own sessions. Another user's session answers
   * exactly like an unknown id (`SESSION_NOT_FOUND`), so ids cannot be probed.
   */
  async revokeOwnSession(userId: string, sessionId: string, client: ClientContext): Promise<void> {
    const { store, clock } = this.#d;
    const session = await store.findSession(sessionId);
    if (session === null || session.userId !== userId || session.revokedAt !== null) throw new GatehouseError('SESSION_NOT_FOUND');
    const now = clock.now();
    const note = auditNote('session_revoked', client);
    const ended = await store.revokeSession(sessionId, 'revoked', now, note);
    this.#d.revocations.revokeSession(sessionId, now);
    if (ended !== null) logRecorded(this.#d, note, now, userId, sessionId);
  }

  /**
   * Re-authentication before a sensitive step (signing out everywhere,
   * linking an external identity): checks the user's password, throttled and
   * audited like a login, so a stolen session cannot guess freely.
   */
  async confirmPassword(userId: string, password: string, client: ClientContext, during: string): Promise<UserRecord> {
    const { store, hasher } = this.#d;
    const user = await store.findUserById(userId);
    if (user === null || user.disabled) throw new GatehouseError('UNAUTHENTICATED');
    const detail = { username: user.username, during };
    const decision = await this.#d.throttle.begin(user.username, client.ip);
    if (!decision.allowed) {
      await this.#auditRefusal('login_throttled', client, { userId, detail });
      throw new GatehouseError('LOGIN_THROTTLED', { headers: { 'retry-after': String(decision.retryAfterSeconds) } });
    }
    if (!(await hasher.verify(user.passwordHash, password))) {
      await auditNow(this.#d, 'login_failed', client, { userId, detail });
      throw new GatehouseError('INVALID_CREDENTIALS');
    }
    await decision.attempt.succeeded();
    return user;
  }

  /** Signs the user out everywhere, this device included, after re-checking the password. */
  async revokeAllSessions(userId: string, password: string, client: ClientContext): Promise<string[]> {
    const { store, clock } = this.#d;
    await this.confirmPassword(userId, password, client, 'revoke_all');
    const now = clock.now();
    const note = auditNote('sessions_revoked_all', client);
    const ids = await store.revokeUserSessions(userId, 'revoked_all', now, note);
    for (const id of ids) this.#d.revocations.revokeSession(id, now);
    logRecorded(this.#d, note, now, userId);
    return ids;
  }

  /**
   * Audits a refusal that needs no store (throttling). The store being away
   * must not turn the refusal into a 503: the client would lose its
   * `Retry-After`. The audit hook has logged the event before it failed to
   * store it.
   */
  async #auditRefusal(type: AuditEvent['type'], client: ClientContext, fields: Pick<AuditEvent, 'userId' | 'sessionId' | 'detail'>): Promise<void> {
    await auditNow(this.#d, type, client, fields).catch(() => undefined);
  }
}
