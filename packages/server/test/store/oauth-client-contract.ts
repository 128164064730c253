/**
 * The store contract for OAuth clients and grants. Each adapter's test file
 * calls {@link describeOAuthClientContract} next to the main contract.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OAuthClientRecord, Store } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

export function describeOAuthClientContract(name: string, openStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Store contract (OAuth clients): ${name}`, () => {
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
    const native: OAuthClientRecord = {
      id: 'mobile-app', type: 'native', redirectURIs: ['http://127.0.0.1/cb', 'com.example.app:/cb'], scopes: ['profile'], secretHash: null, jwks: null, createdAt: T0,
    };
    const machine: OAuthClientRecord = {
      id: 'reports-job', type: 'machine', redirectURIs: [], scopes: ['reports:read', 'reports:write'], secretHash: 'ab'.repeat(32), jwks: null, createdAt: T0 + 1,
    };
    const session = async () => {
      const user = await store.createUser({ id: randomUUID(), username: `u-${randomUUID()}`, passwordHash: 'h', roles: [], createdAt: T0 });
      return store.createSession({ id: randomUUID(), userId: user.id, createdAt: T0, idleExpiresAt: T0 + 3_600_000, absoluteExpiresAt: T0 + 86_400_000, userAgent: null, ip: null }, `rt-${randomUUID()}`);
    };

    it('stores clients as given and lists them by id', async () => {
      expect(await store.createClient(machine)).toEqual(machine);
      await store.createClient(native);
      expect(await store.findClient('mobile-app')).toEqual(native);
      expect(await store.findClient('MOBILE-APP')).toBeNull();
      expect(await store.listClients()).toEqual([native, machine]);
    });

    it('refuses a second client with the same id (CLIENT_ID_TAKEN) and keeps the first', async () => {
      await store.createClient(machine);
      expect(await code(store.createClient({ ...machine, scopes: ['everything'] }))).toBe('CLIENT_ID_TAKEN');
      expect(await store.findClient(machine.id)).toEqual(machine);
    });

    it('records a grant per session, found by session and by code, and none for other sessions', async () => {
      await store.createClient(native);
      const s = await session();
      const other = await session();
      const grant = { sessionId: s.id, clientId: native.id, scope: 'profile', codeId: 'code-1', createdAt: T0, jkt: null };
      await store.recordGrant(grant);
      expect(await store.findGrant(s.id)).toEqual(grant);
      expect(await store.findGrantByCode('code-1')).toEqual(grant);
      expect(await store.findGrant(other.id)).toBeNull();
      expect(await store.findGrantByCode('code-2')).toBeNull();
    });

    it('keeps the DPoP key a grant is bound to (RFC 9449), or null for a bearer session', async () => {
      await store.createClient(native);
      const [bound, bearer] = [await session(), await session()];
      const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
      await store.recordGrant({ sessionId: bound.id, clientId: native.id, scope: 'notes', codeId: 'c-bound', createdAt: T0, jkt });
      await store.recordGrant({ sessionId: bearer.id, clientId: native.id, scope: 'notes', codeId: 'c-bearer', createdAt: T0, jkt: null });
      expect(await store.findGrant(bound.id)).toMatchObject({ jkt });
      expect(await store.findGrantByCode('c-bound')).toMatchObject({ jkt });
      expect(await store.findGrant(bearer.id)).toMatchObject({ jkt: null });
    });

    it('refuses a second grant from the same code', async () => {
      await store.createClient(native);
      const [a, b] = [await session(), await session()];
      await store.recordGrant({ sessionId: a.id, clientId: native.id, scope: '', codeId: 'code-1', createdAt: T0, jkt: null });
      expect(await code(store.recordGrant({ sessionId: b.id, clientId: native.id, scope: '', codeId: 'code-1', createdAt: T0, jkt: null }))).not.toBe('resolved');
      expect(await store.findGrant(b.id)).toBeNull();
    });

    it('removing a client returns its sessions, drops its grants and revokes its tokens; an unknown id is null', async () => {
      await store.createClient(native);
      await store.createClient(machine);
      const [a, b] = [await session(), await session()];
      await store.recordGrant({ sessionId: a.id, clientId: native.id, scope: '', codeId: 'c-a', createdAt: T0, jkt: null });
      await store.recordGrant({ sessionId: b.id, clientId: native.id, scope: '', codeId: 'c-b', createdAt: T0 + 1, jkt: null });
      expect(await store.deleteClient(native.id, T0 + 5)).toEqual([a.id, b.id]);
      expect(await store.findClient(native.id)).toBeNull();
      expect(await store.findGrant(a.id)).toBeNull();
      expect(await store.deleteClient(native.id, T0 + 6)).toBeNull();
      expect(await store.listClients()).toEqual([machine]);
      // Its tokens are revoked with it, once: a revocation event for its subject.
      const events = (await store.listRevocations(0, 0)).filter((e) => e.userId === `client:${native.id}`);
      expect(events).toEqual([expect.objectContaining({ kind: 'user', userId: 'client:mobile-app', at: T0 + 5 })]);
    });
  });
}
