/**
 * Every security event is written in the transaction of the change it
 * records (issue 9, item 4): both commit or neither does. Each adapter's
 * test file calls {@link describeAuditContract} with a way to make audit
 * inserts fail inside the database (a trigger), which shows that a change
 * whose record cannot be written rolls back instead of committing alone.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditNote, NewSession, OAuthClientRecord, RotateRefreshTokenInput, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const IDLE = 30 * MIN;
const GRACE = 10_000;
const ACTOR = { ip: '192.0.2.7', userAgent: 'audit-contract' };

export interface AuditContractStore {
  readonly store: Store;
  cleanup(): Promise<void>;
  /** Makes every audit insert fail inside the database until the returned function is called. */
  refuseAuditWrites(): Promise<() => Promise<void>>;
}

export function describeAuditContract(name: string, openStore: () => Promise<AuditContractStore>): void {
  describe(`Audit events commit with their change: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let refuseAuditWrites: () => Promise<() => Promise<void>>;

    beforeEach(async () => {
      ({ store, cleanup, refuseAuditWrites } = await openStore());
      await store.migrate();
    });
    afterEach(async () => {
      await cleanup();
    });

    const note = (type: AuditNote['type'], detail?: AuditNote['detail']): AuditNote => ({ type, ...ACTOR, ...(detail === undefined ? {} : { detail }) });
    const rotate = (presentedHash: string, over: Partial<RotateRefreshTokenInput> = {}) =>
      store.rotateRefreshToken({ presentedHash, successorHash: `succ-${randomUUID()}`, replacementHash: `repl-${randomUUID()}`, now: T0 + MIN, graceMs: GRACE, idleTimeoutMs: IDLE, actor: ACTOR, ...over });
    const userWithSession = async () => {
      const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h1', roles: ['member'], createdAt: T0 });
      const hash = `rt-${randomUUID()}`;
      const session = await store.createSession(
        { id: randomUUID(), userId: user.id, createdAt: T0, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + 60 * MIN, userAgent: null, ip: null },
        hash,
      );
      return { user, session, hash };
    };
    const newSession = (userId: string): NewSession => ({ id: randomUUID(), userId, createdAt: T0 + 5, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + 60 * MIN, userAgent: 'ua', ip: '192.0.2.9' });
    const openSession = (session: NewSession, over: { passwordHash?: string; refreshTokenHash?: string } = {}) =>
      store.openSession({ session, refreshTokenHash: over.refreshTokenHash ?? `rt-${randomUUID()}`, audit: note('login_succeeded', { method: 'password' }), ...(over.passwordHash === undefined ? {} : { passwordHash: over.passwordHash }) });
    const nativeClient = (): OAuthClientRecord => ({ id: `app-${randomUUID()}`, type: 'native', redirectURIs: ['com.example.app:/cb'], scopes: [], secretHash: null, jwks: null, createdAt: T0 });
    /** A native client with one live and one already-ended granted session. */
    const clientWithSessions = async () => {
      const client = await store.createClient(nativeClient());
      const { user, session: live } = await userWithSession();
      const { session: ended } = await userWithSession();
      await store.recordGrant({ sessionId: live.id, clientId: client.id, scope: '', codeId: `c-${randomUUID()}`, createdAt: T0, jkt: null });
      await store.recordGrant({ sessionId: ended.id, clientId: client.id, scope: '', codeId: `c-${randomUUID()}`, createdAt: T0 + 1, jkt: null });
      await store.revokeSession(ended.id, 'logout', T0 + 2);
      return { client, user, live, ended };
    };
    /** Runs `fn` while audit inserts fail; it must reject. */
    const whileAuditRefused = async (fn: () => Promise<unknown>) => {
      const allow = await refuseAuditWrites();
      try {
        await expect(fn()).rejects.toBeTruthy();
      } finally {
        await allow();
      }
    };

    describe('what is written', () => {
      it('a rotation writes its refresh event, with who presented the token', async () => {
        const { user, session, hash } = await userWithSession();
        expect((await rotate(hash)).status).toBe('rotated');
        expect(await store.listAudit()).toMatchObject([
          { at: T0 + MIN, type: 'refresh', userId: user.id, sessionId: session.id, ...ACTOR, detail: { grace: false } },
        ]);
      });

      it('a grace answer changes nothing and writes nothing; a detected reuse writes refresh_token_reused', async () => {
        const { user, session, hash } = await userWithSession();
        const h1 = `succ-${randomUUID()}`;
        await rotate(hash, { successorHash: h1 });
        expect((await rotate(hash, { now: T0 + MIN + 1 })).status).toBe('grace');
        expect(await store.listAudit()).toHaveLength(1);
        // The successor has been used, so the chain moved on: presenting the first token again is theft.
        await rotate(h1, { now: T0 + 2 * MIN });
        expect((await rotate(hash, { now: T0 + 5 * MIN })).status).toBe('reused');
        expect(await store.listAudit({ type: 'refresh_token_reused' })).toMatchObject([
          { at: T0 + 5 * MIN, userId: user.id, sessionId: session.id, ...ACTOR },
        ]);
      });

      it('openSession writes login_succeeded with the session, and answers the user as the transaction read it', async () => {
        const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h1', roles: ['member'], createdAt: T0 });
        await store.changeRoles(user.id, () => ['admin'], T0 + 1);
        const session = newSession(user.id);
        const refreshTokenHash = `rt-${randomUUID()}`;
        const opened = await openSession(session, { passwordHash: 'h1', refreshTokenHash });
        expect(opened).toEqual({
          status: 'opened',
          session: { ...session, lastSeenAt: session.createdAt, revokedAt: null, revokeReason: null },
          user: await store.findUserById(user.id),
        });
        expect(opened.status === 'opened' && opened.user.roles).toEqual(['admin']);
        expect(await store.findSessionByRefreshTokenHash(refreshTokenHash)).toMatchObject({ id: session.id });
        expect(await store.listAudit()).toMatchObject([
          { at: session.createdAt, type: 'login_succeeded', userId: user.id, sessionId: session.id, ...ACTOR, detail: { method: 'password' } },
        ]);
      });

      it('openSession opens nothing and writes nothing for a user who is gone, disabled or has another password now', async () => {
        const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h1', roles: [], createdAt: T0 });
        expect(await openSession(newSession('nobody'))).toEqual({ status: 'refused', reason: 'user_not_found' });
        await store.changePassword(user.id, 'h2', T0 + 1);
        expect(await openSession(newSession(user.id), { passwordHash: 'h1' })).toEqual({ status: 'refused', reason: 'password_changed' });
        // Without a password (an OpenID sign-in) the hash is not compared.
        expect((await openSession(newSession(user.id))).status).toBe('opened');
        await store.disableUser(user.id, T0 + 2);
        expect(await openSession(newSession(user.id), { passwordHash: 'h2' })).toEqual({ status: 'refused', reason: 'user_disabled' });
        expect(await openSession(newSession(user.id))).toEqual({ status: 'refused', reason: 'user_disabled' });
        expect((await store.listAudit({ type: 'login_succeeded' })).length).toBe(1);
        expect(await store.listActiveSessions(user.id, T0 + 10)).toEqual([]);
      });

      it('revokeSession writes its note only when it ended the session', async () => {
        const { user, session } = await userWithSession();
        await store.revokeSession(session.id, 'logout', T0 + 2, note('logout'));
        await store.revokeSession(session.id, 'logout', T0 + 3, note('logout'));
        await store.revokeSession('no-such-session', 'admin', T0 + 4, note('session_revoked'));
        expect(await store.listAudit()).toMatchObject([{ at: T0 + 2, type: 'logout', userId: user.id, sessionId: session.id, ...ACTOR }]);
      });

      it('revokeUserSessions, changePassword and disableUser record how many sessions ended, even none', async () => {
        const { user } = await userWithSession();
        await store.revokeUserSessions(user.id, 'revoked_all', T0 + 1, note('sessions_revoked_all', { by: 'admin' }));
        await store.changePassword(user.id, 'h2', T0 + 2, note('password_changed'));
        await store.disableUser(user.id, T0 + 3, note('user_disabled'));
        expect(await store.listAudit()).toMatchObject([
          { at: T0 + 3, type: 'user_disabled', userId: user.id, sessionId: null, detail: { sessionsRevoked: 0 } },
          { at: T0 + 2, type: 'password_changed', userId: user.id, sessionId: null, detail: { sessionsRevoked: 0 } },
          { at: T0 + 1, type: 'sessions_revoked_all', userId: user.id, sessionId: null, ...ACTOR, detail: { by: 'admin', sessionsRevoked: 1 } },
        ]);
      });

      it('createUser, enableUser and changeRoles write their notes with the user id; changeRoles adds the roles before and after', async () => {
        const id = randomUUID();
        await store.createUser({ id, username: `u-${id}`, passwordHash: 'h', roles: ['user'], createdAt: T0 }, note('user_created', { username: `u-${id}` }));
        await store.changeRoles(id, (roles) => [...roles, 'admin'], T0 + 1, note('roles_changed'));
        // A change that changes nothing records nothing.
        await store.changeRoles(id, (roles) => roles, T0 + 1, note('roles_changed'));
        await store.enableUser(id, T0 + 2, note('user_enabled'));
        expect((await store.listAudit({ userId: id })).map((e) => [e.type, e.at])).toEqual([
          ['user_enabled', T0 + 2],
          ['roles_changed', T0 + 1],
          ['user_created', T0],
        ]);
        expect(await store.listAudit({ type: 'roles_changed' })).toMatchObject([{ ...ACTOR, detail: { from: 'user', to: 'user admin' } }]);
      });

      it('createClient writes oauth_client_added; deleteClient ends the live granted sessions and writes oauth_client_removed', async () => {
        const { client, user, live } = await clientWithSessions();
        expect(await store.listAudit({ type: 'oauth_client_added' })).toMatchObject([{ at: T0, detail: { client: client.id, type: 'native' } }]);
        expect(await store.deleteClient(client.id, T0 + 5)).toEqual([live.id]);
        expect(await store.findSession(live.id)).toMatchObject({ revokedAt: T0 + 5, revokeReason: 'admin' });
        expect(await store.listAudit({ type: 'oauth_client_removed' })).toMatchObject([{ at: T0 + 5, detail: { client: client.id, sessionsEnded: 1 } }]);
        expect((await store.listRevocations(0, 0)).filter((e) => e.at === T0 + 5)).toEqual([
          expect.objectContaining({ kind: 'user', userId: `client:${client.id}` }),
          expect.objectContaining({ kind: 'session', sessionId: live.id, userId: user.id }),
        ]);
      });

      it('an operation that fails writes no note', async () => {
        expect(await store.changePassword('nobody', 'h', T0, note('password_changed')).catch(() => 'rejected')).toBe('rejected');
        await store.createUser({ id: 'dup', username: 'dup', passwordHash: 'h', roles: [], createdAt: T0 });
        expect(await store.createUser({ id: 'dup2', username: 'dup', passwordHash: 'h', roles: [], createdAt: T0 }, note('user_created')).catch(() => 'rejected')).toBe('rejected');
        expect(await store.listAudit()).toEqual([]);
      });
    });

    describe('a change whose audit event cannot be written does not happen', () => {
      it('rotation: the presented token stays live and no successor exists', async () => {
        const { session, hash } = await userWithSession();
        const successorHash = `succ-${randomUUID()}`;
        await whileAuditRefused(() => rotate(hash, { successorHash }));
        expect(await store.findSessionByRefreshTokenHash(successorHash)).toBeNull();
        expect(await store.findSession(session.id)).toEqual(session);
        // Not `grace`: the token was never marked as rotated.
        expect((await rotate(hash, { now: T0 + 2 * MIN })).status).toBe('rotated');
      });

      it('openSession: no session and no refresh token exist', async () => {
        const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h1', roles: [], createdAt: T0 });
        const session = newSession(user.id);
        const refreshTokenHash = `rt-${randomUUID()}`;
        await whileAuditRefused(() => openSession(session, { passwordHash: 'h1', refreshTokenHash }));
        expect(await store.findSession(session.id)).toBeNull();
        expect(await store.findSessionByRefreshTokenHash(refreshTokenHash)).toBeNull();
      });

      it('reuse detection: the session is not revoked and no revocation event is published', async () => {
        const { session, hash } = await userWithSession();
        const successorHash = `succ-${randomUUID()}`;
        await rotate(hash, { successorHash });
        await rotate(successorHash, { now: T0 + 2 * MIN });
        await whileAuditRefused(() => rotate(hash, { now: T0 + 10 * MIN }));
        expect((await store.findSession(session.id))?.revokedAt).toBeNull();
        expect(await store.listRevocations(0, 0)).toEqual([]);
      });

      it('revokeSession and revokeUserSessions: nothing revoked, no revocation event', async () => {
        const { user, session } = await userWithSession();
        await whileAuditRefused(() => store.revokeSession(session.id, 'logout', T0 + 1, note('logout')));
        await whileAuditRefused(() => store.revokeUserSessions(user.id, 'revoked_all', T0 + 1, note('sessions_revoked_all')));
        expect((await store.findSession(session.id))?.revokedAt).toBeNull();
        expect(await store.listRevocations(0, 0)).toEqual([]);
      });

      it('createClient: no client exists', async () => {
        const client = nativeClient();
        await whileAuditRefused(() => store.createClient(client));
        expect(await store.findClient(client.id)).toBeNull();
      });

      it('deleteClient: the client, its grants and its sessions stay, no revocation event', async () => {
        const { client, live } = await clientWithSessions();
        const before = await store.listRevocations(0, 0);
        await whileAuditRefused(() => store.deleteClient(client.id, T0 + 5));
        expect(await store.findClient(client.id)).toEqual(client);
        expect(await store.findGrant(live.id)).toMatchObject({ clientId: client.id });
        expect((await store.findSession(live.id))?.revokedAt).toBeNull();
        expect(await store.listRevocations(0, 0)).toEqual(before);
      });

      it('changePassword, disableUser, changeRoles, enableUser and createUser: the user is as before', async () => {
        const { user, session } = await userWithSession();
        await whileAuditRefused(() => store.changePassword(user.id, 'h2', T0 + 1, note('password_changed')));
        await whileAuditRefused(() => store.disableUser(user.id, T0 + 1, note('user_disabled')));
        await whileAuditRefused(() => store.changeRoles(user.id, () => ['admin'], T0 + 1, note('roles_changed')));
        expect(await store.findUserById(user.id)).toEqual(user);
        expect((await store.findSession(session.id))?.revokedAt).toBeNull();
        expect(await store.listRevocations(0, 0)).toEqual([]);

        await store.disableUser(user.id, T0 + 2);
        await whileAuditRefused(() => store.enableUser(user.id, T0 + 3, note('user_enabled')));
        expect((await store.findUserById(user.id))?.disabled).toBe(true);

        const id = randomUUID();
        await whileAuditRefused(() => store.createUser({ id, username: `u-${id}`, passwordHash: 'h', roles: [], createdAt: T0 }, note('user_created')));
        expect(await store.findUserById(id)).toBeNull();
      });
    });
  });
}
