/**
 * The store contract for external identities: identity links, provider
 * sessions (back-channel logout's indexed look-up, sealed tokens with
 * optimistic concurrency) and the consume-once records. Each adapter's test
 * file calls {@link describeExternalIdentityContract} next to the main contract.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewProviderSession, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const ISS = 'https://idp.example.test';

export function describeExternalIdentityContract(name: string, openStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Store contract (external identities): ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await openStore());
      await store.migrate();
    });
    afterEach(async () => {
      await cleanup();
    });

    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as { code?: unknown }).code);
    const user = (username = `u-${randomUUID()}`) => store.createUser({ id: randomUUID(), username, passwordHash: 'h', roles: [], createdAt: T0 });
    const session = async (userId: string) =>
      store.createSession({ id: randomUUID(), userId, createdAt: T0, idleExpiresAt: T0 + 60 * MIN, absoluteExpiresAt: T0 + 600 * MIN, userAgent: null, ip: null }, `rt-${randomUUID()}`);
    const providerSession = (sessionId: string, over: Partial<NewProviderSession> = {}): NewProviderSession => ({
      sessionId, providerId: 'idp', issuer: ISS, subject: 'sub-1', sid: 'sid-1', sealedTokens: `v1.${randomUUID()}`, updatedAt: T0, ...over,
    });

    describe('identity links', () => {
      it('links an identity to a user, finds it by (issuer, subject) only, and lists a user\'s links', async () => {
        const alice = await user();
        const link = { issuer: ISS, subject: 'sub-1', userId: alice.id, providerId: 'idp', createdAt: T0 };
        expect(await store.linkIdentity(link)).toEqual(link);
        expect(await store.findIdentity(ISS, 'sub-1')).toEqual(link);
        expect(await store.findIdentity(ISS, 'SUB-1')).toBeNull();
        expect(await store.findIdentity('https://other.example.test', 'sub-1')).toBeNull();
        const second = { issuer: 'https://other.example.test', subject: 'sub-1', userId: alice.id, providerId: 'other', createdAt: T0 + 1 };
        await store.linkIdentity(second);
        expect(await store.listIdentities(alice.id)).toEqual([link, second]);
      });

      it('linking the same identity to the same user again keeps the first link', async () => {
        const alice = await user();
        const first = await store.linkIdentity({ issuer: ISS, subject: 's', userId: alice.id, providerId: 'idp', createdAt: T0 });
        expect(await store.linkIdentity({ ...first, createdAt: T0 + MIN })).toEqual(first);
      });

      it('refuses to move an identity to another user (IDENTITY_ALREADY_LINKED) and changes nothing', async () => {
        const alice = await user();
        const mallory = await user();
        const link = await store.linkIdentity({ issuer: ISS, subject: 's', userId: alice.id, providerId: 'idp', createdAt: T0 });
        expect(await code(store.linkIdentity({ ...link, userId: mallory.id }))).toBe('IDENTITY_ALREADY_LINKED');
        expect(await store.findIdentity(ISS, 's')).toEqual(link);
        expect(await store.listIdentities(mallory.id)).toEqual([]);
      });

      it('of concurrent links of one identity to two users, exactly one wins', async () => {
        const [a, b] = [await user(), await user()];
        const outcomes = await Promise.all(
          [a, b, a, b].map((u) => code(store.linkIdentity({ issuer: ISS, subject: 'race', userId: u.id, providerId: 'idp', createdAt: T0 }))),
        );
        const owner = (await store.findIdentity(ISS, 'race'))?.userId;
        expect([a.id, b.id]).toContain(owner);
        expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(2);
        expect(outcomes.filter((o) => o === 'IDENTITY_ALREADY_LINKED')).toHaveLength(2);
      });

      it('refuses a link to a user that does not exist (USER_NOT_FOUND)', async () => {
        expect(await code(store.linkIdentity({ issuer: ISS, subject: 's', userId: 'nobody', providerId: 'idp', createdAt: T0 }))).toBe('USER_NOT_FOUND');
      });

      it('creates a user together with its link, atomically', async () => {
        const created = await store.createUserWithIdentity(
          { id: 'u-new', username: 'newcomer', passwordHash: 'h', roles: [], createdAt: T0 },
          { issuer: ISS, subject: 'fresh', providerId: 'idp' },
        );
        expect(created).toMatchObject({ id: 'u-new', username: 'newcomer', roles: [], disabled: false });
        expect(await store.findIdentity(ISS, 'fresh')).toEqual({ issuer: ISS, subject: 'fresh', userId: 'u-new', providerId: 'idp', createdAt: T0 });
      });

      it('creates nothing when the username is taken (USERNAME_TAKEN) or the identity is linked (IDENTITY_ALREADY_LINKED)', async () => {
        await user('taken');
        expect(
          await code(store.createUserWithIdentity({ id: 'u1', username: 'taken', passwordHash: 'h', roles: [], createdAt: T0 }, { issuer: ISS, subject: 'x', providerId: 'idp' })),
        ).toBe('USERNAME_TAKEN');
        expect(await store.findIdentity(ISS, 'x')).toBeNull();
        const owner = await user();
        await store.linkIdentity({ issuer: ISS, subject: 'y', userId: owner.id, providerId: 'idp', createdAt: T0 });
        expect(
          await code(store.createUserWithIdentity({ id: 'u2', username: 'free-name', passwordHash: 'h', roles: [], createdAt: T0 }, { issuer: ISS, subject: 'y', providerId: 'idp' })),
        ).toBe('IDENTITY_ALREADY_LINKED');
        expect(await store.findUserById('u2')).toBeNull();
        expect(await store.findUserByUsername('free-name')).toBeNull();
      });
    });

    describe('provider sessions', () => {
      it('keeps a session\'s provider session as given, at version 0', async () => {
        const s = await session((await user()).id);
        const record = providerSession(s.id);
        await store.saveProviderSession(record);
        expect(await store.findProviderSession(s.id)).toEqual({ ...record, tokenVersion: 0 });
        expect(await store.findProviderSession('nope')).toBeNull();
      });

      it('refuses a provider session for an unknown session (SESSION_NOT_FOUND)', async () => {
        expect(await code(store.saveProviderSession(providerSession('no-such-session')))).toBe('SESSION_NOT_FOUND');
      });

      it('replaces the tokens only at the expected version (one of two racing refreshes wins)', async () => {
        const s = await session((await user()).id);
        await store.saveProviderSession(providerSession(s.id));
        const [first, second] = await Promise.all([
          store.replaceProviderTokens(s.id, 0, 'sealed-a', T0 + MIN),
          store.replaceProviderTokens(s.id, 0, 'sealed-b', T0 + MIN),
        ]);
        expect([first, second].filter(Boolean)).toHaveLength(1);
        const after = await store.findProviderSession(s.id);
        expect(after).toMatchObject({ tokenVersion: 1, updatedAt: T0 + MIN, sealedTokens: first ? 'sealed-a' : 'sealed-b' });
        expect(await store.replaceProviderTokens(s.id, 1, 'sealed-c', T0 + 2 * MIN)).toBe(true);
        expect(await store.replaceProviderTokens('nope', 0, 'x', T0)).toBe(false);
      });

      it('revokes by (issuer, sid): those sessions only, with their revocation events, once', async () => {
        const alice = await user();
        const bob = await user();
        const [a1, a2, a3, b1] = [await session(alice.id), await session(alice.id), await session(alice.id), await session(bob.id)];
        await store.saveProviderSession(providerSession(a1.id, { sid: 'sid-x' }));
        await store.saveProviderSession(providerSession(a2.id, { sid: 'sid-x' }));
        await store.saveProviderSession(providerSession(a3.id, { sid: 'sid-y' }));
        await store.saveProviderSession(providerSession(b1.id, { sid: 'sid-x', issuer: 'https://other.example.test' }));
        const ended = await store.revokeProviderSessions({ issuer: ISS, sid: 'sid-x' }, 'provider_logout', T0 + MIN);
        expect(ended.sort()).toEqual([a1.id, a2.id].sort());
        expect(await store.findSession(a1.id)).toMatchObject({ revokedAt: T0 + MIN, revokeReason: 'provider_logout' });
        expect((await store.findSession(a3.id))?.revokedAt).toBeNull();
        expect((await store.findSession(b1.id))?.revokedAt).toBeNull();
        const events = await store.listRevocations(0, 0);
        expect(events.map((e) => (e.kind === 'session' ? e.sessionId : null)).sort()).toEqual([a1.id, a2.id].sort());
        expect(events.every((e) => e.userId === alice.id && e.at === T0 + MIN)).toBe(true);
        // Already ended: nothing more, no second event.
        expect(await store.revokeProviderSessions({ issuer: ISS, sid: 'sid-x' }, 'provider_logout', T0 + 2 * MIN)).toEqual([]);
        expect(await store.listRevocations(0, 0)).toHaveLength(2);
      });

      it('revokes by (issuer, subject), and by both when both are given', async () => {
        const alice = await user();
        const [a1, a2, a3] = [await session(alice.id), await session(alice.id), await session(alice.id)];
        await store.saveProviderSession(providerSession(a1.id, { subject: 'sub-a', sid: 's1' }));
        await store.saveProviderSession(providerSession(a2.id, { subject: 'sub-a', sid: 's2' }));
        await store.saveProviderSession(providerSession(a3.id, { subject: 'sub-b', sid: 's1' }));
        expect(await store.revokeProviderSessions({ issuer: ISS, subject: 'sub-a', sid: 's1' }, 'provider_logout', T0)).toEqual([a1.id]);
        expect(await store.revokeProviderSessions({ issuer: ISS, subject: 'sub-a' }, 'provider_logout', T0)).toEqual([a2.id]);
        expect((await store.findSession(a3.id))?.revokedAt).toBeNull();
        expect(await store.revokeProviderSessions({ issuer: ISS }, 'provider_logout', T0)).toEqual([]);
      });

      it('goes with its session when purgeExpired deletes it', async () => {
        const s = await session((await user()).id);
        await store.saveProviderSession(providerSession(s.id));
        await store.revokeSession(s.id, 'logout', T0);
        await store.purgeExpired(T0 + 1);
        expect(await store.findProviderSession(s.id)).toBeNull();
      });
    });

    describe('consumeOnce', () => {
      it('accepts a key once while its record lives, and again only after it expired', async () => {
        expect(await store.consumeOnce('k1', T0 + MIN, T0)).toBe(true);
        expect(await store.consumeOnce('k1', T0 + MIN, T0 + 1)).toBe(false);
        expect(await store.consumeOnce('k1', T0 + 5 * MIN, T0 + MIN - 1)).toBe(false);
        expect(await store.consumeOnce('k2', T0 + MIN, T0)).toBe(true);
        // Expired: the value it guarded is refused for its age by its own checks; the record may be taken over.
        expect(await store.consumeOnce('k1', T0 + 3 * MIN, T0 + MIN)).toBe(true);
        expect(await store.consumeOnce('k1', T0 + 3 * MIN, T0 + 2 * MIN)).toBe(false);
      });

      it('of many concurrent consumptions of one key, exactly one succeeds', async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.consumeOnce('race', T0 + MIN, T0)));
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it('purgeConsumed deletes expired records only; purgeExpired does too', async () => {
        await store.consumeOnce('old-1', T0, T0 - MIN);
        await store.consumeOnce('old-2', T0 + 1, T0 - MIN);
        await store.consumeOnce('live', T0 + MIN, T0 - MIN);
        expect(await store.purgeConsumed(T0 + 1)).toBe(1);
        expect(await store.purgeConsumed(T0 + 1)).toBe(0);
        await store.purgeExpired(T0 + 2);
        expect(await store.purgeConsumed(T0 + 2 * MIN)).toBe(1); // only 'live' was left
        expect(await store.consumeOnce('live', T0 + 3 * MIN, T0 + 2 * MIN)).toBe(true);
      });
    });
  });
}
