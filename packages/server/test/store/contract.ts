/**
 * The behaviour every {@link Store} must have. Each adapter's test file calls
 * {@link describeStoreContract}; nothing here may depend on one database.
 * Errors are matched on `code`, never on message text.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewSession, NewSigningKey, NewUser, RotateRefreshTokenInput, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const IDLE = 30 * MIN;
const GRACE = 10_000;

/** Registers the contract suite for one adapter. `openStore` must give an empty store. */
export function describeStoreContract(
  name: string,
  openStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let n = 0;
    const tok = (label = 'rt') => `${label}-${++n}-${randomUUID()}`;

    beforeEach(async () => {
      ({ store, cleanup } = await openStore());
      await store.migrate();
    });
    afterEach(async () => {
      await cleanup();
    });

    const newUser = (over: Partial<NewUser> = {}): NewUser => ({
      id: randomUUID(), username: `user-${randomUUID()}`, passwordHash: '$argon2id$h1', roles: ['member'], createdAt: T0, ...over,
    });
    const newSession = (userId: string, over: Partial<NewSession> = {}): NewSession => ({
      id: randomUUID(), userId, createdAt: T0, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + 24 * 60 * MIN,
      userAgent: 'vitest', ip: '127.0.0.1', ...over,
    });
    const rotate = (presentedHash: string, over: Partial<RotateRefreshTokenInput> = {}) =>
      store.rotateRefreshToken({
        presentedHash, successorHash: tok('succ'), replacementHash: tok('repl'), now: T0 + MIN, graceMs: GRACE, idleTimeoutMs: IDLE,
        actor: { ip: null, userAgent: null }, ...over,
      });
    /** A user with one session; `hash` is its live refresh token. */
    const userWithSession = async (over: Partial<NewSession> = {}) => {
      const user = await store.createUser(newUser());
      const hash = tok();
      const session = await store.createSession(newSession(user.id, over), hash);
      return { user, session, hash };
    };
    const events = () => store.listRevocations(0, 0);
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as { code?: unknown }).code);

    describe('users', () => {
      it('creates a user with defaults and finds it by id and exact username', async () => {
        const input = newUser({ username: 'alice', roles: ['admin', 'member'] });
        const created = await store.createUser(input);
        expect(created).toEqual({
          id: input.id, username: 'alice', passwordHash: input.passwordHash, roles: ['admin', 'member'],
          disabled: false, createdAt: T0, updatedAt: T0, version: 0,
        });
        expect(await store.findUserById(input.id)).toEqual(created);
        expect(await store.findUserByUsername('alice')).toEqual(created);
        expect(await store.findUserByUsername('Alice')).toBeNull();
        expect(await store.findUserById('nobody')).toBeNull();
        expect(await store.findUserByUsername('nobody')).toBeNull();
      });

      it('keeps an empty role list', async () => {
        const user = await store.createUser(newUser({ roles: [] }));
        expect((await store.findUserById(user.id))?.roles).toEqual([]);
      });

      it('rejects a duplicate username with USERNAME_TAKEN and keeps the first user', async () => {
        const first = await store.createUser(newUser({ username: 'bob' }));
        expect(await code(store.createUser(newUser({ username: 'bob', passwordHash: 'other' })))).toBe('USERNAME_TAKEN');
        expect(await store.findUserByUsername('bob')).toEqual(first);
      });

      it('changePassword replaces the hash and revokes every session of that user only, atomically', async () => {
        const { user, session: s1 } = await userWithSession();
        const s2 = await store.createSession(newSession(user.id, { createdAt: T0 + 1 }), tok());
        const s3 = await store.createSession(newSession(user.id), tok());
        await store.revokeSession(s3.id, 'logout', T0 + 2);
        const other = await userWithSession();
        const before = (await events()).length;

        const change = await store.changePassword(user.id, '$argon2id$h2', T0 + 5);
        expect(change.version).toBe(1);
        expect([...change.revokedSessionIds].sort()).toEqual([s1.id, s2.id].sort());
        const after = await store.findUserById(user.id);
        expect(after).toMatchObject({ passwordHash: '$argon2id$h2', updatedAt: T0 + 5, createdAt: T0, version: 1 });
        expect(await store.findSession(s1.id)).toMatchObject({ revokedAt: T0 + 5, revokeReason: 'password_changed' });
        expect(await store.findSession(s3.id)).toMatchObject({ revokedAt: T0 + 2, revokeReason: 'logout' });
        expect((await store.findSession(other.session.id))?.revokedAt).toBeNull();
        const added = (await events()).slice(before);
        expect(added).toHaveLength(3);
        expect(added.filter((e) => e.kind === 'session').map((e) => e.kind === 'session' && e.sessionId).sort()).toEqual([s1.id, s2.id].sort());
        expect(added.filter((e) => e.kind === 'user')).toMatchObject([{ userId: user.id, version: 1 }]);
        expect(added.every((e) => e.userId === user.id && e.at === T0 + 5)).toBe(true);
      });

      it('user updates reject USER_NOT_FOUND for an unknown user and write nothing', async () => {
        expect(await code(store.changePassword('nobody', 'h', T0))).toBe('USER_NOT_FOUND');
        expect(await code(store.disableUser('nobody', T0))).toBe('USER_NOT_FOUND');
        expect(await code(store.enableUser('nobody', T0))).toBe('USER_NOT_FOUND');
        expect(await code(store.changeRoles('nobody', () => ['x'], T0))).toBe('USER_NOT_FOUND');
        expect(await events()).toEqual([]);
      });

      it('disableUser disables, revokes every session and appends a user event; enableUser re-enables', async () => {
        const { user, session } = await userWithSession();
        const change = await store.disableUser(user.id, T0 + 7);
        expect(change).toEqual({ version: 1, revokedSessionIds: [session.id] });
        expect(await store.findUserById(user.id)).toMatchObject({ disabled: true, updatedAt: T0 + 7, version: 1 });
        expect(await store.findSession(session.id)).toMatchObject({ revokedAt: T0 + 7, revokeReason: 'user_disabled' });
        const evs = await events();
        expect(evs.filter((e) => e.kind === 'session')).toMatchObject([{ sessionId: session.id, userId: user.id, at: T0 + 7 }]);
        expect(evs.filter((e) => e.kind === 'user')).toMatchObject([{ kind: 'user', userId: user.id, version: 1, at: T0 + 7 }]);

        expect(await store.enableUser(user.id, T0 + 9)).toEqual({ version: 2, revokedSessionIds: [] });
        expect(await store.findUserById(user.id)).toMatchObject({ disabled: false, updatedAt: T0 + 9, version: 2 });
        expect((await store.findSession(session.id))?.revokeReason).toBe('user_disabled');
        expect((await events()).filter((e) => e.kind === 'user').map((e) => e.kind === 'user' && e.version)).toEqual([1, 2]);
      });

      it('changeRoles stores what the edit returns, bumps the version and appends a user event, without ending sessions', async () => {
        const { user, session } = await userWithSession();
        const seen: (readonly string[])[] = [];
        const outcome = await store.changeRoles(user.id, (roles) => (seen.push(roles), ['admin', ...roles]), T0 + 3);
        expect(seen).toEqual([['member']]);
        expect(outcome).toEqual({ user: { ...user, roles: ['admin', 'member'], updatedAt: T0 + 3, version: 1 }, previousRoles: ['member'], changed: true });
        expect(await store.findUserById(user.id)).toEqual(outcome.user);
        expect(await events()).toMatchObject([{ kind: 'user', userId: user.id, version: 1, at: T0 + 3 }]);
        expect((await store.findSession(session.id))?.revokedAt).toBeNull();
      });

      it('changeRoles writes nothing when the edit returns the same roles, and nothing when the edit throws', async () => {
        const { user } = await userWithSession();
        const same = await store.changeRoles(user.id, (roles) => [...roles], T0 + 3);
        expect(same).toEqual({ user, previousRoles: ['member'], changed: false });
        const refused = await store.changeRoles(user.id, () => { throw new Error('too many roles'); }, T0 + 4).then(() => null, (e: unknown) => e);
        expect((refused as Error).message).toBe('too many roles');
        expect(await store.findUserById(user.id)).toEqual(user);
        expect(await events()).toEqual([]);
      });

      it('changeRoles edits queue: of 10 concurrent additions none is lost, and each gets its own version', async () => {
        const { user } = await userWithSession();
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.changeRoles(user.id, (roles) => [...roles, `r${i}`], T0 + i)),
        );
        expect(outcomes.map((o) => o.user.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const after = await store.findUserById(user.id);
        expect([...(after?.roles ?? [])].sort()).toEqual(['member', ...Array.from({ length: 10 }, (_, i) => `r${i}`)].sort());
        expect(after?.version).toBe(10);
      });
    });

    describe('sessions', () => {
      it('creates a session with its first refresh token and finds it both ways', async () => {
        const { user, session, hash } = await userWithSession();
        expect(session).toEqual({
          id: session.id, userId: user.id, createdAt: T0, lastSeenAt: T0, idleExpiresAt: T0 + IDLE,
          absoluteExpiresAt: T0 + 24 * 60 * MIN, revokedAt: null, revokeReason: null, userAgent: 'vitest', ip: '127.0.0.1',
        });
        expect(await store.findSession(session.id)).toEqual(session);
        expect(await store.findSessionByRefreshTokenHash(hash)).toEqual(session);
        expect(await store.findSession('nope')).toBeNull();
        expect(await store.findSessionByRefreshTokenHash('nope')).toBeNull();
      });

      it('keeps null user agent and ip', async () => {
        const user = await store.createUser(newUser());
        const s = await store.createSession(newSession(user.id, { userAgent: null, ip: null }), tok());
        expect(await store.findSession(s.id)).toMatchObject({ userAgent: null, ip: null });
      });

      it('rejects a session for an unknown user with USER_NOT_FOUND', async () => {
        expect(await code(store.createSession(newSession('nobody'), tok()))).toBe('USER_NOT_FOUND');
      });

      it('finds a session by an old refresh token and after revocation', async () => {
        const { session, hash } = await userWithSession();
        expect((await rotate(hash)).status).toBe('rotated');
        await store.revokeSession(session.id, 'logout', T0 + 2 * MIN);
        expect(await store.findSessionByRefreshTokenHash(hash)).toMatchObject({ id: session.id, revokeReason: 'logout' });
      });

      it('lists only live sessions of the user, newest first, with strict expiry bounds', async () => {
        const { user, session: oldest } = await userWithSession();
        const now = T0 + 10 * MIN;
        const newest = await store.createSession(newSession(user.id, { createdAt: T0 + 2 }), tok());
        const middle = await store.createSession(newSession(user.id, { createdAt: T0 + 1 }), tok());
        const revoked = await store.createSession(newSession(user.id, { createdAt: T0 + 3 }), tok());
        await store.revokeSession(revoked.id, 'logout', T0 + 4);
        await store.createSession(newSession(user.id, { createdAt: T0 + 5, idleExpiresAt: now }), tok());
        await store.createSession(newSession(user.id, { createdAt: T0 + 6, absoluteExpiresAt: now }), tok());
        await userWithSession({ createdAt: T0 + 9 });
        const ids = (await store.listActiveSessions(user.id, now)).map((s) => s.id);
        expect(ids).toEqual([newest.id, middle.id, oldest.id]);
        expect(await store.listActiveSessions('nobody', now)).toEqual([]);
      });
    });

    describe('revocation', () => {
      it('revokeSession revokes once, appends one event, and is idempotent', async () => {
        const { session } = await userWithSession();
        expect(await store.revokeSession(session.id, 'admin', T0 + 4)).toEqual({ ...session, revokedAt: T0 + 4, revokeReason: 'admin' });
        expect(await store.revokeSession(session.id, 'logout', T0 + 5)).toBeNull();
        expect(await store.revokeSession('nope', 'logout', T0 + 5)).toBeNull();
        expect(await store.findSession(session.id)).toMatchObject({ revokedAt: T0 + 4, revokeReason: 'admin' });
        expect(await events()).toMatchObject([{ kind: 'session', sessionId: session.id, userId: session.userId, at: T0 + 4 }]);
        expect(await events()).toHaveLength(1);
      });

      it('revokeUserSessions revokes only not-yet-revoked sessions of that user', async () => {
        const { user, session: s1 } = await userWithSession();
        const s2 = await store.createSession(newSession(user.id), tok());
        const s3 = await store.createSession(newSession(user.id), tok());
        await store.revokeSession(s3.id, 'logout', T0 + 1);
        const other = await userWithSession();
        const revoked = await store.revokeUserSessions(user.id, 'revoked_all', T0 + 8);
        expect([...revoked].sort()).toEqual([s1.id, s2.id].sort());
        expect(await store.findSession(s2.id)).toMatchObject({ revokedAt: T0 + 8, revokeReason: 'revoked_all' });
        expect((await store.findSession(other.session.id))?.revokedAt).toBeNull();
        expect(await events()).toHaveLength(3);
        expect(await store.revokeUserSessions(user.id, 'revoked_all', T0 + 9)).toEqual([]);
        expect(await store.revokeUserSessions('nobody', 'revoked_all', T0 + 9)).toEqual([]);
        expect(await events()).toHaveLength(3);
      });

      it('lists revocations after a seq and not before an instant, in strictly increasing seq order', async () => {
        const a = await userWithSession();
        const b = await userWithSession();
        await store.revokeSession(a.session.id, 'logout', T0 + 30);
        await store.changeRoles(b.user.id, () => ['x'], T0 + 10);
        await store.revokeSession(b.session.id, 'logout', T0 + 20);
        const all = await events();
        expect(all).toMatchObject([
          { kind: 'session', sessionId: a.session.id, userId: a.user.id, at: T0 + 30 },
          { kind: 'user', userId: b.user.id, version: 1, at: T0 + 10 },
          { kind: 'session', sessionId: b.session.id, userId: b.user.id, at: T0 + 20 },
        ]);
        const seqs = all.map((e) => e.seq);
        expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? Infinity))).toBe(true);
        expect(await store.listRevocations(seqs[0] ?? 0, 0)).toEqual(all.slice(1));
        expect(await store.listRevocations(0, T0 + 20)).toEqual([all[0], all[2]]);
        expect(await store.listRevocations(seqs[2] ?? 0, 0)).toEqual([]);
      });
    });

    describe('audit', () => {
      it('appends and lists newest first, with filters, limit and JSON detail', async () => {
        await store.appendAudit({ at: T0, type: 'login_failed', detail: { username: 'eve', attempts: 3, locked: false, note: null } });
        await store.appendAudit({ at: T0 + 1, type: 'login_succeeded', userId: 'u1', sessionId: 's1', ip: '10.0.0.1', userAgent: 'ua' });
        await store.appendAudit({ at: T0 + 2, type: 'logout', userId: 'u1', sessionId: 's1' });
        await store.appendAudit({ at: T0 + 3, type: 'login_succeeded', userId: 'u2' });
        const all = await store.listAudit();
        expect(all.map((e) => e.at)).toEqual([T0 + 3, T0 + 2, T0 + 1, T0]);
        expect(all[3]).toMatchObject({ type: 'login_failed', userId: null, sessionId: null, ip: null, userAgent: null, detail: { username: 'eve', attempts: 3, locked: false, note: null } });
        expect(all[2]).toMatchObject({ type: 'login_succeeded', userId: 'u1', sessionId: 's1', ip: '10.0.0.1', userAgent: 'ua' });
        expect(new Set(all.map((e) => e.id)).size).toBe(4);
        expect((await store.listAudit({ userId: 'u1' })).map((e) => e.at)).toEqual([T0 + 2, T0 + 1]);
        expect((await store.listAudit({ type: 'login_succeeded' })).map((e) => e.at)).toEqual([T0 + 3, T0 + 1]);
        expect((await store.listAudit({ userId: 'u1', type: 'logout' })).map((e) => e.at)).toEqual([T0 + 2]);
        expect((await store.listAudit({ limit: 2 })).map((e) => e.at)).toEqual([T0 + 3, T0 + 2]);
      });

      it('returns at most 100 events by default', async () => {
        for (let i = 0; i < 105; i++) await store.appendAudit({ at: T0 + i, type: 'refresh' });
        const listed = await store.listAudit();
        expect(listed).toHaveLength(100);
        expect(listed[0]?.at).toBe(T0 + 104);
      });
    });

    describe('purgeExpired', () => {
      it('deletes ended sessions with their tokens and old events, never live ones', async () => {
        const before = T0 + 60 * MIN;
        const live = await userWithSession({ idleExpiresAt: before + 1 });
        const absolute = await userWithSession({ absoluteExpiresAt: before - 1 });
        const idle = await userWithSession({ idleExpiresAt: before - 1 });
        const revokedEarly = await userWithSession({ idleExpiresAt: before + MIN });
        const revokedLate = await userWithSession({ idleExpiresAt: before + MIN });
        const edge = await userWithSession({ idleExpiresAt: before, absoluteExpiresAt: before });
        await store.revokeSession(revokedEarly.session.id, 'logout', before - 1);
        await store.revokeSession(revokedLate.session.id, 'logout', before);

        expect(await store.purgeExpired(before)).toBe(3);
        for (const gone of [absolute, idle, revokedEarly]) {
          expect(await store.findSession(gone.session.id)).toBeNull();
          expect(await store.findSessionByRefreshTokenHash(gone.hash)).toBeNull();
        }
        for (const kept of [live, revokedLate, edge]) expect(await store.findSession(kept.session.id)).not.toBeNull();
        expect(await events()).toMatchObject([{ sessionId: revokedLate.session.id, at: before }]);
        expect((await rotate(live.hash, { now: before - MIN })).status).toBe('rotated');
        expect(await store.purgeExpired(before)).toBe(0);
      });
    });

    describe('signing keys', () => {
      const newKey = (over: Partial<NewSigningKey> = {}): NewSigningKey => ({
        kid: `kid-${randomUUID()}`, alg: 'EdDSA', publicJwk: '{"kty":"OKP","crv":"Ed25519","x":"AAAA"}',
        encryptedPrivateKey: `v1.${randomUUID()}`, createdAt: T0, activatesAt: T0, ...over,
      });

      it('starts empty, stores a key exactly as given and lists it with no retirement', async () => {
        expect(await store.listSigningKeys()).toEqual([]);
        const input = newKey({ alg: 'ES256', activatesAt: T0 + MIN });
        const inserted = await store.insertSigningKey(input);
        expect(inserted).toEqual({ ...input, retiredAt: null });
        expect(await store.listSigningKeys()).toEqual([inserted]);
      });

      it('retires every unretired predecessor at the successor\'s activation, in the same call', async () => {
        const first = await store.insertSigningKey(newKey({ activatesAt: T0 }));
        const second = await store.insertSigningKey(newKey({ alg: 'RS256', createdAt: T0 + MIN, activatesAt: T0 + 2 * MIN }));
        const third = await store.insertSigningKey(newKey({ createdAt: T0 + 3 * MIN, activatesAt: T0 + 5 * MIN }));
        expect(await store.listSigningKeys()).toEqual([
          { ...first, retiredAt: T0 + 2 * MIN }, // retired once, by the second key; the third does not move it
          { ...second, retiredAt: T0 + 5 * MIN },
          third,
        ]);
        expect(third.retiredAt).toBeNull();
      });

      it('lists oldest activation first, then by creation', async () => {
        const late = newKey({ kid: 'a-late', activatesAt: T0 + 2 * MIN, createdAt: T0 });
        const early = newKey({ kid: 'b-early', activatesAt: T0, createdAt: T0 + 2 * MIN });
        const tie = newKey({ kid: 'c-tie', activatesAt: T0, createdAt: T0 + 3 * MIN });
        await store.insertSigningKey(late);
        await store.insertSigningKey(early);
        await store.insertSigningKey(tie);
        expect((await store.listSigningKeys()).map((k) => k.kid)).toEqual(['b-early', 'c-tie', 'a-late']);
      });

      it('rejects a duplicate kid with KEY_ID_TAKEN and changes nothing, not even retirements', async () => {
        const first = await store.insertSigningKey(newKey({ kid: 'k1' }));
        expect(await code(store.insertSigningKey(newKey({ kid: 'k1', activatesAt: T0 + MIN, publicJwk: '{}' })))).toBe('KEY_ID_TAKEN');
        expect(await store.listSigningKeys()).toEqual([first]);
      });

      it('deletes one key by kid and says whether it existed', async () => {
        const kept = await store.insertSigningKey(newKey());
        const gone = await store.insertSigningKey(newKey({ activatesAt: T0 + MIN }));
        expect(await store.deleteSigningKey(gone.kid)).toBe(true);
        expect(await store.deleteSigningKey(gone.kid)).toBe(false);
        expect(await store.listSigningKeys()).toEqual([{ ...kept, retiredAt: T0 + MIN }]);
      });

      it('keeps signing keys across migrate and rejects STORE_UNAVAILABLE once closed', async () => {
        const key = await store.insertSigningKey(newKey());
        await store.migrate();
        expect(await store.listSigningKeys()).toEqual([key]);
        await store.close();
        expect(await code(store.listSigningKeys())).toBe('STORE_UNAVAILABLE');
        expect(await code(store.insertSigningKey(newKey()))).toBe('STORE_UNAVAILABLE');
      });
    });

    describe('lifecycle', () => {
      it('migrate is safe to repeat and keeps data', async () => {
        const user = await store.createUser(newUser());
        await store.migrate();
        expect(await store.findUserById(user.id)).toEqual(user);
      });

      it('close is idempotent and later calls reject with STORE_UNAVAILABLE', async () => {
        await store.close();
        await store.close();
        expect(await code(store.findUserById('x'))).toBe('STORE_UNAVAILABLE');
        expect(await code(store.createUser(newUser()))).toBe('STORE_UNAVAILABLE');
        expect(await code(rotate('x'))).toBe('STORE_UNAVAILABLE');
      });
    });
  });
}
