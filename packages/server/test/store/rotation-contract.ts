/**
 * The refresh-token rotation rules every {@link Store} must apply, in the
 * order `SessionStore.rotateRefreshToken` lists them. Each adapter's test file
 * calls {@link describeRotationContract}. Hashes stand in for tokens: the
 * store never sees a token.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewSession, RotateRefreshTokenInput, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const IDLE = 30 * MIN;
const GRACE = 10_000;
/** The first instant a token rotated at `at` is outside the grace window. */
const afterGrace = (at: number) => at + GRACE + 1;

export function describeRotationContract(name: string, openStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Refresh rotation rules: ${name}`, () => {
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

    const rotate = (presentedHash: string, over: Partial<RotateRefreshTokenInput> = {}) =>
      store.rotateRefreshToken({
        presentedHash, successorHash: tok('succ'), replacementHash: tok('repl'), now: T0 + MIN, graceMs: GRACE, idleTimeoutMs: IDLE,
        actor: { ip: null, userAgent: null }, ...over,
      });
    /** A user with one session; `hash` is its live refresh token. */
    const userWithSession = async (over: Partial<NewSession> = {}) => {
      const user = await store.createUser({ id: randomUUID(), username: `user-${randomUUID()}`, passwordHash: '$argon2id$h1', roles: ['member'], createdAt: T0 });
      const hash = tok();
      const session = await store.createSession(
        { id: randomUUID(), userId: user.id, createdAt: T0, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + 24 * 60 * MIN, userAgent: 'vitest', ip: '127.0.0.1', ...over },
        hash,
      );
      return { user, session, hash };
    };
    const revocations = () => store.listRevocations(0, 0);
    const isRevoked = async (sessionId: string) => (await store.findSession(sessionId))?.revokedAt !== null;

    describe('a live token', () => {
      it('rotates: successor is live, idle expiry moves, absolute expiry does not', async () => {
        const { user, session, hash } = await userWithSession();
        const successorHash = tok();
        const out = await rotate(hash, { successorHash, now: T0 + 5 * MIN });
        expect(out).toEqual({
          status: 'rotated', successor: 'derived', user: await store.findUserById(user.id),
          session: { ...session, lastSeenAt: T0 + 5 * MIN, idleExpiresAt: T0 + 5 * MIN + IDLE },
        });
        expect(await store.findSession(session.id)).toEqual(out.status === 'rotated' ? out.session : null);
        expect(await store.findSessionByRefreshTokenHash(successorHash)).toMatchObject({ id: session.id });
        expect((await rotate(successorHash, { now: T0 + 6 * MIN })).status).toBe('rotated');
      });

      it('never extends idle expiry past absolute expiry', async () => {
        const { hash } = await userWithSession({ idleExpiresAt: T0 + 10 * MIN, absoluteExpiresAt: T0 + 20 * MIN });
        const out = await rotate(hash, { now: T0 + 5 * MIN });
        expect(out.status === 'rotated' && out.session.idleExpiresAt).toBe(T0 + 20 * MIN);
      });

      it('treats a successor hash that already exists as unknown and changes nothing', async () => {
        const a = await userWithSession();
        const b = await userWithSession();
        expect(await rotate(a.hash, { successorHash: b.hash })).toEqual({ status: 'invalid', reason: 'unknown' });
        expect(await store.findSession(a.session.id)).toEqual(a.session);
        expect(await store.findSessionByRefreshTokenHash(b.hash)).toMatchObject({ id: b.session.id });
        expect((await rotate(a.hash)).status).toBe('rotated');
        expect((await rotate(b.hash)).status).toBe('rotated');
      });

      it('lets exactly one of many concurrent rotations of the same token win; the rest get grace', async () => {
        const { session, hash } = await userWithSession();
        const successors = Array.from({ length: 25 }, () => tok());
        const outs = await Promise.all(successors.map((successorHash) => rotate(hash, { successorHash })));
        const winners = outs.flatMap((o, i) => (o.status === 'rotated' ? [successors[i]] : []));
        expect(winners).toHaveLength(1);
        const winner = winners[0];
        expect(outs.filter((o) => o.status === 'grace')).toHaveLength(24);
        for (const o of outs) if (o.status === 'grace') expect(o).toMatchObject({ path: ['derived'], liveHash: winner });
        for (const s of successors) {
          expect(await store.findSessionByRefreshTokenHash(s)).toEqual(s === winner ? await store.findSession(session.id) : null);
        }
        expect((await rotate(winner ?? '', { now: T0 + 2 * MIN })).status).toBe('rotated');
      });
    });

    describe('refusals', () => {
      it('answers invalid/unknown for an unknown token', async () => {
        expect(await rotate('no-such-token')).toEqual({ status: 'invalid', reason: 'unknown' });
      });

      it('answers invalid/revoked for a revoked session and writes no event', async () => {
        const { session, hash } = await userWithSession();
        await store.revokeSession(session.id, 'logout', T0 + 1);
        const before = await revocations();
        expect(await rotate(hash)).toEqual({ status: 'invalid', reason: 'revoked' });
        expect(await revocations()).toEqual(before);
        expect((await store.findSession(session.id))?.revokeReason).toBe('logout');
      });

      it('answers invalid/user_disabled when the user is disabled', async () => {
        const { user, hash } = await userWithSession();
        await store.disableUser(user.id, T0);
        const other = tok();
        await store.createSession({ id: randomUUID(), userId: user.id, createdAt: T0, idleExpiresAt: T0 + IDLE, absoluteExpiresAt: T0 + IDLE, userAgent: null, ip: null }, other);
        expect(await rotate(other)).toEqual({ status: 'invalid', reason: 'user_disabled' });
        expect(await rotate(hash)).toEqual({ status: 'invalid', reason: 'revoked' });
      });

      it('answers invalid/expired from the idle or absolute expiry instant on', async () => {
        const idle = await userWithSession({ idleExpiresAt: T0 + 10 * MIN });
        expect(await rotate(idle.hash, { now: T0 + 10 * MIN })).toEqual({ status: 'invalid', reason: 'expired' });
        expect((await rotate(idle.hash, { now: T0 + 10 * MIN - 1 })).status).toBe('rotated');
        const abs = await userWithSession({ idleExpiresAt: T0 + 60 * MIN, absoluteExpiresAt: T0 + 10 * MIN });
        expect(await rotate(abs.hash, { now: T0 + 10 * MIN })).toEqual({ status: 'invalid', reason: 'expired' });
        expect((await store.findSession(abs.session.id))?.lastSeenAt).toBe(T0);
      });
    });

    describe('the grace window (parallel tabs)', () => {
      it('answers grace for a recently rotated token, with the path to the live token, and changes nothing', async () => {
        const { session, hash: h0 } = await userWithSession();
        const h1 = tok();
        const h2 = tok();
        await rotate(h0, { successorHash: h1, now: T0 + MIN });
        const afterSecond = await rotate(h1, { successorHash: h2, now: T0 + MIN + 1000 });
        const current = await store.findSession(session.id);
        const user = await store.findUserById(session.userId);
        const out = await rotate(h0, { now: T0 + MIN + GRACE });
        expect(out).toEqual({ status: 'grace', session: current, user, path: ['derived', 'derived'], liveHash: h2 });
        expect(await rotate(h1, { now: T0 + MIN + 2000 })).toMatchObject({ status: 'grace', path: ['derived'], liveHash: h2 });
        expect(await store.findSession(session.id)).toEqual(afterSecond.status === 'rotated' ? afterSecond.session : null);
        expect((await rotate(h2, { now: T0 + 2 * MIN })).status).toBe('rotated');
      });
    });

    describe('reuse: the chain moved on by use', () => {
      it('revokes the session once when a token comes back after its successor was itself presented', async () => {
        const { session, hash: h0 } = await userWithSession();
        const h1 = tok();
        const h2 = tok();
        await rotate(h0, { successorHash: h1, now: T0 + MIN });
        await rotate(h1, { successorHash: h2, now: T0 + 2 * MIN });
        const out = await rotate(h0, { now: T0 + 3 * MIN });
        expect(out).toEqual({
          status: 'reused',
          session: { ...session, lastSeenAt: T0 + 2 * MIN, idleExpiresAt: T0 + 2 * MIN + IDLE, revokedAt: T0 + 3 * MIN, revokeReason: 'refresh_token_reused' },
        });
        expect(await revocations()).toMatchObject([{ kind: 'session', sessionId: session.id, userId: session.userId, at: T0 + 3 * MIN }]);
        expect(await rotate(h2, { now: T0 + 4 * MIN })).toEqual({ status: 'invalid', reason: 'revoked' });
        expect(await rotate(h0, { now: T0 + 4 * MIN })).toEqual({ status: 'invalid', reason: 'revoked' });
        expect(await revocations()).toHaveLength(1);
      });

      it('thief refreshes first and uses the successor: the victim presenting the original is reuse', async () => {
        const { session, hash: stolen } = await userWithSession();
        const thiefs = tok();
        await rotate(stolen, { successorHash: thiefs, now: T0 + MIN });
        expect((await rotate(thiefs, { now: T0 + 2 * MIN })).status).toBe('rotated');
        expect((await rotate(stolen, { now: T0 + 3 * MIN })).status).toBe('reused');
        expect(await isRevoked(session.id)).toBe(true);
      });
    });

    describe('replacing a never-used successor (a lost response)', () => {
      it('a client that lost the response and retries after the grace window gets a replacement and stays signed in', async () => {
        const { session, hash: h0 } = await userWithSession();
        const lost = tok();
        const replacementHash = tok();
        await rotate(h0, { successorHash: lost, now: T0 + MIN });
        const retry = await rotate(h0, { replacementHash, now: afterGrace(T0 + MIN) });
        expect(retry).toMatchObject({ status: 'rotated', successor: 'replacement', session: { id: session.id, lastSeenAt: afterGrace(T0 + MIN) } });
        expect(await isRevoked(session.id)).toBe(false);
        // The replacement is an ordinary live token from now on.
        expect(await rotate(replacementHash, { now: T0 + 5 * MIN })).toMatchObject({ status: 'rotated', successor: 'derived' });
        expect(await revocations()).toEqual([]);
      });

      it('the replaced successor is dead: whoever presents it (the thief who refreshed first) ends the session', async () => {
        const { session, hash: stolen } = await userWithSession();
        const thiefs = tok();
        const victims = tok();
        await rotate(stolen, { successorHash: thiefs, now: T0 + MIN });
        // The victim presents the same token later; the thief's successor was never used, so it is replaced.
        expect(await rotate(stolen, { replacementHash: victims, now: T0 + 2 * MIN })).toMatchObject({ status: 'rotated', successor: 'replacement' });
        expect(await rotate(thiefs, { now: T0 + 3 * MIN })).toMatchObject({ status: 'reused' });
        expect(await isRevoked(session.id)).toBe(true);
        expect(await rotate(victims, { now: T0 + 4 * MIN })).toEqual({ status: 'invalid', reason: 'revoked' });
      });

      it('even inside its own grace window a replaced successor is reuse', async () => {
        const { session, hash: h0 } = await userWithSession();
        const h1 = tok();
        await rotate(h0, { successorHash: h1, now: T0 + MIN });
        await rotate(h0, { now: T0 + 2 * MIN });
        expect((await rotate(h1, { now: T0 + 2 * MIN + 1 })).status).toBe('reused');
        expect(await isRevoked(session.id)).toBe(true);
      });

      it('replaces once: the same token presented again after the next grace window is reuse', async () => {
        const { session, hash: h0 } = await userWithSession();
        await rotate(h0, { now: T0 + MIN });
        expect((await rotate(h0, { now: T0 + 2 * MIN })).status).toBe('rotated');
        expect((await rotate(h0, { now: T0 + 3 * MIN })).status).toBe('reused');
        expect(await isRevoked(session.id)).toBe(true);
      });

      it('retries inside the new grace window get the same replacement, and older tokens the path through it', async () => {
        const { user, hash: h0 } = await userWithSession();
        const h1 = tok();
        const h2 = tok();
        const r2 = tok();
        await rotate(h0, { successorHash: h1, now: T0 + MIN });
        await rotate(h1, { successorHash: h2, now: T0 + 2 * MIN });
        const replaced = await rotate(h1, { replacementHash: r2, now: T0 + 3 * MIN });
        expect(replaced).toMatchObject({ status: 'rotated', successor: 'replacement' });
        const session = replaced.status === 'rotated' ? replaced.session : null;
        expect(await rotate(h1, { now: T0 + 3 * MIN + GRACE })).toEqual({ status: 'grace', session, user: await store.findUserById(user.id), path: ['replacement'], liveHash: r2 });
        // h0 was rotated long ago and its successor h1 has been used: reuse, not grace.
        expect((await rotate(h0, { now: T0 + 3 * MIN + 1 })).status).toBe('reused');
      });

      it('a grace path runs through a replacement to later derived tokens', async () => {
        const { hash: h0 } = await userWithSession();
        const r1 = tok();
        const h2 = tok();
        await rotate(h0, { now: T0 + MIN });
        await rotate(h0, { replacementHash: r1, now: T0 + 2 * MIN });
        await rotate(r1, { successorHash: h2, now: T0 + 2 * MIN + 1000 });
        expect(await rotate(h0, { now: T0 + 2 * MIN + 2000 })).toMatchObject({ status: 'grace', path: ['replacement', 'derived'], liveHash: h2 });
      });

      it('treats a replacement hash that already exists as unknown and changes nothing', async () => {
        const a = await userWithSession();
        const b = await userWithSession();
        const a1 = tok();
        await rotate(a.hash, { successorHash: a1, now: T0 + MIN });
        const before = await store.findSession(a.session.id);
        expect(await rotate(a.hash, { replacementHash: b.hash, now: T0 + 2 * MIN })).toEqual({ status: 'invalid', reason: 'unknown' });
        expect(await store.findSession(a.session.id)).toEqual(before);
        // a1 is still the live, never-used successor.
        expect(await rotate(a1, { now: T0 + 3 * MIN })).toMatchObject({ status: 'rotated', successor: 'derived' });
      });

      it('of many retries presenting the same token at once, one replaces and the rest get the replacement', async () => {
        const { session, hash: h0 } = await userWithSession();
        await rotate(h0, { now: T0 + MIN });
        const replacements = Array.from({ length: 20 }, () => tok());
        const outs = await Promise.all(replacements.map((replacementHash) => rotate(h0, { replacementHash, now: T0 + 2 * MIN })));
        const winners = replacements.filter((_, i) => outs[i]?.status === 'rotated');
        expect(winners).toHaveLength(1);
        for (const o of outs) if (o.status !== 'rotated') expect(o).toMatchObject({ status: 'grace', path: ['replacement'], liveHash: winners[0] });
        expect(await isRevoked(session.id)).toBe(false);
      });
    });
  });
}
