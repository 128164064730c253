// The in-memory key registry every instance checks partner keys against: no
// store read per request once warm, changes picked up from the store's change
// log, and no key vouched for once it cannot confirm it is current.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { PartnerAdmin } from '../../src/partners/partner-admin.js';
import { parsePartnerKey, type PresentedPartnerKey } from '../../src/partners/partner-key.js';
import { PartnerRegistry } from '../../src/partners/partner-registry.js';
import { openSQLiteStore, type SQLiteStore } from '../../src/store/sqlite/sqlite-store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('partner key registry', () => {
  let dir: string;
  let store: SQLiteStore;
  let clock: ManualClock;
  let monotonic: number;
  let registry: PartnerRegistry;
  let admin: PartnerAdmin;

  const key = (value: string): PresentedPartnerKey => {
    const parsed = parsePartnerKey(value);
    if (parsed === null) throw new Error('not a key');
    return parsed;
  };
  const verdict = (value: string) => {
    const result = registry.verify(key(value));
    return result.ok ? `ok ${result.partner.partnerId} ${result.partner.keyKind}` : result.code;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-partner-registry-'));
    store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
    clock = new ManualClock(T0);
    monotonic = 0;
    registry = new PartnerRegistry(store, clock, { maxStalenessMs: 10_000, monotonicNow: () => monotonic });
    admin = new PartnerAdmin(store, clock, (keyId) => registry.revoked(keyId));
  });
  afterEach(async () => {
    await registry.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('vouches for both keys of a registered partner, each as its own kind, with the partner\'s scopes and origins', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    const result = registry.verify(key(added.publishableKey));
    expect(result).toEqual({
      ok: true,
      partner: { partnerId: 'acme', partnerName: 'acme', keyId: key(added.publishableKey).id, keyKind: 'publishable', scopes: ['catalog:read'], origins: ['https://shop.acme.test'] },
    });
    expect(verdict(added.secretKey)).toBe('ok acme secret');
  });

  it('answers from memory once warm: checking keys reads nothing from the store', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    const reads = vi.spyOn(store, 'listPartnerChanges');
    const finds = vi.spyOn(store, 'findPartner');
    for (let i = 0; i < 100; i++) registry.verify(key(added.publishableKey));
    expect(reads).not.toHaveBeenCalled();
    expect(finds).not.toHaveBeenCalled();
  });

  it('refuses a key whose secret part was changed, a key whose prefix names the other kind, and an unknown id, all alike', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    const last = added.secretKey.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${added.secretKey.slice(0, -2)}${last}${added.secretKey.at(-1)}`;
    expect(verdict(tampered)).toBe('PARTNER_KEY_INVALID');
    expect(verdict(`ghpk_${added.secretKey.slice(5)}`)).toBe('PARTNER_KEY_INVALID');
    expect(verdict(`ghsk_${'0'.repeat(24)}${added.secretKey.slice(29)}`)).toBe('PARTNER_KEY_INVALID');
  });

  it('a rotated key works during the overlap and stops after it; the new one works at once', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    const rotated = await admin.rotate('acme', 'publishable', 3600);
    await registry.sync();
    expect(verdict(added.publishableKey)).toBe('ok acme publishable');
    expect(verdict(rotated.key)).toBe('ok acme publishable');
    clock.set(T0 + 3600_000 - 1);
    expect(verdict(added.publishableKey)).toBe('ok acme publishable');
    clock.set(T0 + 3600_000);
    expect(verdict(added.publishableKey)).toBe('PARTNER_KEY_INVALID');
    expect(verdict(rotated.key)).toBe('ok acme publishable');
    expect(verdict(added.secretKey)).toBe('ok acme secret');
  });

  it('a key revoked by another process (the CLI) is refused after the next read of the change log', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    const elsewhere = new PartnerAdmin(store, clock, () => undefined);
    await elsewhere.revoke(key(added.publishableKey).id);
    expect(verdict(added.publishableKey)).toBe('ok acme publishable'); // not read yet
    await registry.sync();
    expect(verdict(added.publishableKey)).toBe('PARTNER_KEY_INVALID');
    expect(verdict(added.secretKey)).toBe('ok acme secret');
  });

  it('a key revoked through this process is refused at once, before any read', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    await admin.revoke(key(added.secretKey).id);
    expect(verdict(added.secretKey)).toBe('PARTNER_KEY_INVALID');
  });

  it('fails closed: past maxStalenessMs without a successful read, no key passes (PARTNER_KEYS_UNAVAILABLE), until a read succeeds', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test'], scopes: ['catalog:read'] });
    await registry.sync();
    monotonic = 10_000;
    expect(verdict(added.publishableKey)).toBe('ok acme publishable');
    expect(registry.allowsOrigin('https://shop.acme.test')).toBe(true);
    monotonic = 10_001;
    expect(verdict(added.publishableKey)).toBe('PARTNER_KEYS_UNAVAILABLE');
    expect(registry.allowsOrigin('https://shop.acme.test')).toBe(false);
    const failing = vi.spyOn(store, 'listPartnerChanges').mockRejectedValueOnce(new Error('database down'));
    await expect(registry.sync()).rejects.toThrow('database down');
    expect(verdict(added.publishableKey)).toBe('PARTNER_KEYS_UNAVAILABLE');
    failing.mockRestore();
    await registry.sync();
    expect(verdict(added.publishableKey)).toBe('ok acme publishable');
  });

  it('a CORS preflight is allowed for an origin only while one of its partner\'s publishable keys works', async () => {
    const added = await admin.add({ id: 'acme', origins: ['https://shop.acme.test', 'http://localhost:5173'], scopes: ['catalog:read'] });
    await registry.sync();
    expect(registry.allowsOrigin('https://shop.acme.test')).toBe(true);
    expect(registry.allowsOrigin('http://localhost:5173')).toBe(true);
    expect(registry.allowsOrigin('https://evil.test')).toBe(false);
    expect(registry.allowsOrigin('https://shop.acme.test.evil.test')).toBe(false);
    await admin.revoke(key(added.publishableKey).id);
    expect(registry.allowsOrigin('https://shop.acme.test')).toBe(false);
  });
});

describe('partner registration input', () => {
  it('refuses origins that are not exactly scheme://host[:port], plain http on a public host, bad ids and scopes, naming each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-partner-admin-'));
    const store = openSQLiteStore({ path: join(dir, 'gatehouse.db') });
    try {
      const admin = new PartnerAdmin(store, new ManualClock(T0), () => undefined);
      const problem = (input: Parameters<PartnerAdmin['add']>[0]) => admin.add(input).then(() => 'added', (e: Error) => `${e.name}: ${e.message}`);
      expect(await problem({ id: 'acme', origins: ['https://shop.acme.test/path'], scopes: ['a'] })).toMatch(/^TypeError: .*scheme:\/\/host\[:port\]/);
      expect(await problem({ id: 'acme', origins: ['https://*.acme.test'], scopes: ['a'] })).toMatch(/^TypeError: /);
      expect(await problem({ id: 'acme', origins: ['http://shop.acme.test'], scopes: ['a'] })).toMatch(/must be https/);
      expect(await problem({ id: 'acme', origins: [], scopes: ['a'] })).toMatch(/at least one origin/);
      expect(await problem({ id: 'Acme!', origins: ['https://a.test'], scopes: ['a'] })).toMatch(/partner id/);
      expect(await problem({ id: 'acme', origins: ['https://a.test'], scopes: [] })).toMatch(/at least one scope/);
      expect(await problem({ id: 'acme', origins: ['https://a.test'], scopes: ['a b'] })).toMatch(/is not a scope/);
      expect(await store.listPartners()).toEqual([]);
      const added = await admin.add({ id: 'acme', origins: ['HTTPS://Shop.Acme.Test:443', 'http://localhost:8080'], scopes: ['catalog:read'] });
      expect(added.partner.origins).toEqual(['https://shop.acme.test', 'http://localhost:8080']);
      expect(added.publishableKey).toMatch(/^ghpk_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
      expect(added.secretKey).toMatch(/^ghsk_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
      const stored = JSON.stringify(await store.listPartners());
      expect(stored).not.toContain(added.secretKey.slice(30));
      expect(stored).not.toContain(added.publishableKey.slice(30));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
