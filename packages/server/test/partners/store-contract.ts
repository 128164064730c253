/**
 * The store contract for partners and their keys: registration, listing,
 * rotation with an overlap, revocation, and the change log each instance's
 * key registry reads. Run on SQLite and PostgreSQL by store.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewPartner, NewPartnerKey, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

export function describePartnerStoreContract(name: string, openStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Store contract (partners): ${name}`, () => {
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
    const partner = (over: Partial<NewPartner> = {}): NewPartner => ({
      id: `p-${randomUUID().slice(0, 8)}`, name: 'Acme', origins: ['https://shop.acme.test', 'http://localhost:8080'], scopes: ['catalog:read'], createdAt: T0, ...over,
    });
    const key = (kind: NewPartnerKey['kind'], createdAt = T0): NewPartnerKey => ({ id: randomUUID().replace(/-/g, '').slice(0, 24), kind, hash: `h-${randomUUID()}`, createdAt });

    it('registers a partner with its keys, finds it by id and lists every partner by id', async () => {
      const pk = key('publishable');
      const sk = key('secret');
      const created = await store.createPartner(partner({ id: 'acme' }), [pk, sk]);
      expect(created).toEqual({
        id: 'acme', name: 'Acme', origins: ['https://shop.acme.test', 'http://localhost:8080'], scopes: ['catalog:read'], createdAt: T0,
        keys: expect.arrayContaining([
          { ...pk, partnerId: 'acme', expiresAt: null, revokedAt: null },
          { ...sk, partnerId: 'acme', expiresAt: null, revokedAt: null },
        ]),
      });
      expect(created.keys).toHaveLength(2);
      expect(await store.findPartner('acme')).toEqual(created);
      expect(await store.findPartner('ACME')).toBeNull();
      await store.createPartner(partner({ id: 'beta' }), []);
      expect((await store.listPartners()).map((p) => p.id)).toEqual(['acme', 'beta']);
    });

    it('refuses a second partner with the same id (PARTNER_ID_TAKEN) and keeps the first as it was', async () => {
      const first = await store.createPartner(partner({ id: 'acme' }), [key('publishable')]);
      expect(await code(store.createPartner(partner({ id: 'acme', name: 'Other' }), [key('secret')]))).toBe('PARTNER_ID_TAKEN');
      expect(await store.findPartner('acme')).toEqual(first);
    });

    it('rotation adds the new key and ends the live keys of that kind at the end of the overlap, not the other kind', async () => {
      const pk = key('publishable');
      const sk = key('secret');
      const { id } = await store.createPartner(partner(), [pk, sk]);
      const next = key('publishable', T0 + HOUR);
      const rotated = await store.rotatePartnerKey(id, next, T0 + 2 * HOUR, T0 + HOUR);
      const byId = new Map(rotated.keys.map((k) => [k.id, k]));
      expect(byId.get(pk.id)).toMatchObject({ expiresAt: T0 + 2 * HOUR, revokedAt: null });
      expect(byId.get(next.id)).toMatchObject({ kind: 'publishable', expiresAt: null, revokedAt: null });
      expect(byId.get(sk.id)).toMatchObject({ expiresAt: null });
    });

    it('a second rotation never lengthens the life of a key that is already ending', async () => {
      const first = key('secret');
      const { id } = await store.createPartner(partner(), [first]);
      await store.rotatePartnerKey(id, key('secret'), T0 + HOUR, T0);
      const after = await store.rotatePartnerKey(id, key('secret'), T0 + 5 * HOUR, T0 + 1);
      expect(after.keys.find((k) => k.id === first.id)?.expiresAt).toBe(T0 + HOUR);
      expect(after.keys.filter((k) => k.expiresAt === null)).toHaveLength(1);
    });

    it('rotating for a partner that does not exist is PARTNER_NOT_FOUND', async () => {
      expect(await code(store.rotatePartnerKey('nobody', key('secret'), T0, T0))).toBe('PARTNER_NOT_FOUND');
    });

    it('revokes one key, keeps the first revocation time, and answers null for an unknown key', async () => {
      const pk = key('publishable');
      const other = key('publishable');
      await store.createPartner(partner(), [pk, other]);
      expect(await store.revokePartnerKey(pk.id, T0 + HOUR)).toMatchObject({ id: pk.id, revokedAt: T0 + HOUR });
      expect(await store.revokePartnerKey(pk.id, T0 + 2 * HOUR)).toMatchObject({ id: pk.id, revokedAt: T0 + HOUR });
      expect(await store.revokePartnerKey('no-such-key', T0)).toBeNull();
      const found = await store.findPartner((await store.listPartners())[0]?.id ?? '');
      expect(found?.keys.find((k) => k.id === other.id)?.revokedAt).toBeNull();
    });

    it('the change log hands each changed partner once, as it is now, after the cursor only', async () => {
      const start = await store.listPartnerChanges(0);
      expect(start).toEqual({ seq: 0, partners: [] });
      const pk = key('publishable');
      await store.createPartner(partner({ id: 'acme' }), [pk]);
      await store.createPartner(partner({ id: 'beta' }), []);
      const all = await store.listPartnerChanges(0);
      expect(all.partners.map((p) => p.id)).toEqual(['acme', 'beta']);
      expect(all.seq).toBeGreaterThan(0);

      expect(await store.listPartnerChanges(all.seq)).toEqual({ seq: all.seq, partners: [] });
      await store.revokePartnerKey(pk.id, T0 + 1);
      await store.revokePartnerKey(pk.id, T0 + 2); // already revoked: no change
      const next = await store.listPartnerChanges(all.seq);
      expect(next.seq).toBeGreaterThan(all.seq);
      expect(next.partners).toHaveLength(1);
      expect(next.partners[0]?.keys[0]).toMatchObject({ id: pk.id, revokedAt: T0 + 1 });
      expect(await store.listPartnerChanges(next.seq)).toEqual({ seq: next.seq, partners: [] });
    });

    it('every change writes its audit event with it (ids, kinds and times, never a key hash); a change that did nothing writes none', async () => {
      const pk = key('publishable');
      const sk = key('secret');
      await store.createPartner(partner({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] }), [pk, sk]);
      const next = key('secret', T0 + 1);
      await store.rotatePartnerKey('acme', next, T0 + HOUR, T0 + 1);
      await store.revokePartnerKey(pk.id, T0 + 2);
      await store.revokePartnerKey(pk.id, T0 + 3);
      await code(store.createPartner(partner({ id: 'acme' }), []));
      const events = (await store.listAudit()).filter((e) => e.type.startsWith('partner_'));
      expect(events.map(({ type, at, detail }) => ({ type, at, detail }))).toEqual([
        { type: 'partner_key_revoked', at: T0 + 2, detail: { partnerId: 'acme', keyId: pk.id, kind: 'publishable' } },
        { type: 'partner_key_rotated', at: T0 + 1, detail: { partnerId: 'acme', keyId: next.id, kind: 'secret', oldKeysEndAt: T0 + HOUR } },
        {
          type: 'partner_added',
          at: T0,
          detail: { partnerId: 'acme', origins: 'https://shop.acme.test', scopes: 'catalog:read', keyIds: `publishable:${pk.id} secret:${sk.id}` },
        },
      ]);
      expect(JSON.stringify(events)).not.toContain(pk.hash);
    });

    it('a failed registration leaves nothing in the change log', async () => {
      await store.createPartner(partner({ id: 'acme' }), []);
      const { seq } = await store.listPartnerChanges(0);
      await code(store.createPartner(partner({ id: 'acme' }), []));
      expect(await store.listPartnerChanges(seq)).toEqual({ seq, partners: [] });
    });
  });
}
