import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessTokenService } from '../../src/core/access-token.js';
import { ManualClock } from '../../src/core/clock.js';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/core/key-encryption.js';
import { SigningKeyFile } from '../../src/core/key-file.js';
import {
  ensureActiveSigningKey,
  generatePrivateJWK,
  generateSigningKey,
  pinnedHeader,
  purgeExpiredSigningKeys,
  SigningKeySet,
  signingKeyPhase,
} from '../../src/core/signing-keys.js';
import { openSQLiteStore, type SQLiteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SigningAlgorithm, SigningKeyRecord } from '../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const RETAIN = 10 * MIN;
const ENCRYPTION_KEY = createSecretKey(randomBytes(32));
const OPTIONS = { issuer: 'https://auth.example', audience: 'https://api.example', ttlSeconds: 300, clockToleranceSeconds: 5 };
const SUBJECT = { userId: 'u1', username: 'alice', roles: ['user'], sessionId: 's1' };

describe('key encryption at rest', () => {
  const sealed = encryptPrivateKey('{"d":"secret"}', ENCRYPTION_KEY, 'kid1|EdDSA');

  it('round-trips, and never shows the plaintext', () => {
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(sealed).not.toContain('secret');
    expect(decryptPrivateKey(sealed, ENCRYPTION_KEY, 'kid1|EdDSA')).toBe('{"d":"secret"}');
  });

  it('uses a fresh nonce each time', () => {
    expect(encryptPrivateKey('{"d":"secret"}', ENCRYPTION_KEY, 'kid1|EdDSA')).not.toBe(sealed);
  });

  it('answers null under another key, for another row, tampered or malformed', () => {
    expect(decryptPrivateKey(sealed, createSecretKey(randomBytes(32)), 'kid1|EdDSA')).toBeNull();
    expect(decryptPrivateKey(sealed, ENCRYPTION_KEY, 'kid2|EdDSA')).toBeNull();
    expect(decryptPrivateKey(sealed, ENCRYPTION_KEY, 'kid1|ES256')).toBeNull();
    const [v, iv, data = '', tag] = sealed.split('.');
    const flipped = `${data.startsWith('A') ? 'B' : 'A'}${data.slice(1)}`;
    expect(decryptPrivateKey([v, iv, flipped, tag].join('.'), ENCRYPTION_KEY, 'kid1|EdDSA')).toBeNull();
    for (const bad of ['', 'v1', 'v2.a.b.c', `${sealed}.x`, 'v1.AAAA.AAAA.AAAA']) {
      expect(decryptPrivateKey(bad, ENCRYPTION_KEY, 'kid1|EdDSA')).toBeNull();
    }
  });
});

describe('signingKeyPhase', () => {
  const key = (activatesAt: number, retiredAt: number | null) =>
    ({ kid: 'k', alg: 'EdDSA', publicJwk: '{}', encryptedPrivateKey: '', createdAt: T0, activatesAt, retiredAt }) satisfies SigningKeyRecord;

  it('is pending before activation, active until retired, retired for the retention, then expired', () => {
    const k = key(T0 + MIN, T0 + 5 * MIN);
    expect(signingKeyPhase(k, T0, RETAIN)).toBe('pending');
    expect(signingKeyPhase(k, T0 + MIN, RETAIN)).toBe('active');
    expect(signingKeyPhase(k, T0 + 5 * MIN - 1, RETAIN)).toBe('active');
    expect(signingKeyPhase(k, T0 + 5 * MIN, RETAIN)).toBe('retired');
    expect(signingKeyPhase(k, T0 + 5 * MIN + RETAIN - 1, RETAIN)).toBe('retired');
    expect(signingKeyPhase(k, T0 + 5 * MIN + RETAIN, RETAIN)).toBe('expired');
  });

  it('keeps an unretired key active for ever', () => {
    expect(signingKeyPhase(key(T0, null), T0 + 1000 * 86_400_000, RETAIN)).toBe('active');
  });
});

describe('SigningKeySet over a real SQLite store', () => {
  let store: SQLiteStore;
  let clock: ManualClock;
  let problems: string[];
  const open = (encryptionKey = ENCRYPTION_KEY) =>
    new SigningKeySet(store, encryptionKey, clock, { retainMs: RETAIN, onProblem: (message, kid) => problems.push(`${kid}: ${message}`) });
  const add = async (alg: SigningAlgorithm, activatesAt: number) =>
    store.insertSigningKey(await generateSigningKey(alg, ENCRYPTION_KEY, { now: clock.now(), activatesAt }));

  beforeEach(() => {
    store = openSQLiteStore({ path: ':memory:' });
    clock = new ManualClock(T0);
    problems = [];
  });
  afterEach(async () => {
    await store.close();
  });

  it.each(['EdDSA', 'ES256', 'RS256'] as const)('%s: issues tokens with the pinned kid header and verifies them', async (alg) => {
    const key = await add(alg, T0);
    const keySet = open();
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { token } = await tokens.issue(SUBJECT);
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: 'at+jwt' });
    expect(token.split('.')[0]).toBe(pinnedHeader(alg, key.kid).encoded);
    expect(await tokens.verify(token)).toMatchObject({ ok: true, claims: { sub: 'u1', sid: 's1' } });
  });

  it('publishes public members only, with kid, alg and use, for every algorithm', async () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) await add(alg, T0);
    const keySet = open();
    await keySet.sync();
    const keys = [...keySet.jwks().keys].sort((a, b) => String(a.alg).localeCompare(String(b.alg)));
    expect(keys.map((k) => k.alg)).toEqual(['EdDSA', 'ES256', 'RS256']);
    expect(keys.map((k) => Object.keys(k).sort())).toEqual([
      ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
      ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
      ['alg', 'e', 'kid', 'kty', 'n', 'use'],
    ]);
    for (const k of keys) expect(k.use).toBe('sig');
  });

  it('signs with the newest active key; a pending key is published and verifies but does not sign', async () => {
    const first = await add('EdDSA', T0);
    const second = await add('EdDSA', T0 + 10 * MIN);
    const keySet = open();
    await keySet.sync();
    expect(keySet.signer().header.kid).toBe(first.kid);
    expect(keySet.jwks().keys.map((k) => k.kid)).toEqual([first.kid, second.kid]);
    expect(keySet.verifierFor(pinnedHeader('EdDSA', second.kid).encoded)).toBeDefined();
    clock.set(T0 + 10 * MIN);
    expect(keySet.signer().header.kid).toBe(second.kid); // no sync needed: activation is a time, not an event
  });

  it('keeps a retired key verifying for the retention, then drops it from verification and the JWKS', async () => {
    const first = await add('EdDSA', T0);
    await add('EdDSA', T0 + MIN);
    const keySet = open();
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { token } = await tokens.issue(SUBJECT);
    clock.set(T0 + MIN + 1000);
    expect((await tokens.verify(token)).ok).toBe(true);
    clock.set(T0 + MIN + RETAIN);
    expect(keySet.verifierFor(pinnedHeader('EdDSA', first.kid).encoded)).toBeUndefined();
    expect(keySet.jwks().keys.map((k) => k.kid)).not.toContain(first.kid);
  });

  it('refuses a cached token once its key is deleted from the store and synced', async () => {
    const first = await add('EdDSA', T0);
    const keySet = open();
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { token } = await tokens.issue(SUBJECT);
    expect((await tokens.verify(token)).ok).toBe(true); // now cached
    await add('EdDSA', T0);
    await store.deleteSigningKey(first.kid);
    await keySet.sync();
    expect(await tokens.verify(token)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });

  it('refuses a token whose header differs in any way from the key\'s pinned header', async () => {
    const key = await add('ES256', T0);
    const keySet = open();
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { token } = await tokens.issue(SUBJECT);
    const [, payload, signature] = token.split('.');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const header of [
      { alg: 'ES256', kid: key.kid, typ: 'at+jwt' }, // same members in the order earlier versions wrote: a spelling it knows, but not what was signed
      { kid: key.kid, alg: 'ES256', typ: 'at+jwt' }, // same members, an order no version wrote
      { alg: 'ES384', kid: key.kid, typ: 'at+jwt' },
      { alg: 'none', kid: key.kid, typ: 'at+jwt' },
      { alg: 'ES256', kid: key.kid, typ: 'JWT' },
      { alg: 'ES256', kid: key.kid, typ: 'at+jwt', jku: 'https://evil.example/jwks' },
    ]) {
      expect(await tokens.verify(`${b64(header)}.${payload}.${signature}`)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
    }
  });

  it('a key whose private part does not decrypt verifies but cannot sign, and says so', async () => {
    const key = await add('EdDSA', T0);
    const keySet = open(createSecretKey(randomBytes(32)));
    await keySet.sync();
    expect(keySet.verifierFor(pinnedHeader('EdDSA', key.kid).encoded)).toBeDefined();
    expect(() => keySet.signer()).toThrow(expect.objectContaining({ code: 'INTERNAL_ERROR' }));
    expect(problems).toEqual([`${key.kid}: signing key cannot be decrypted (was the secret changed?); it verifies but cannot sign`]);
  });

  it('has no signer at all before any key exists (fails closed)', async () => {
    const keySet = open();
    await keySet.sync();
    expect(() => keySet.signer()).toThrow(expect.objectContaining({ code: 'INTERNAL_ERROR' }));
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    await expect(tokens.issue(SUBJECT)).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  it('ensureActiveSigningKey adds a key only when none of the algorithm is active or pending', async () => {
    const created = await ensureActiveSigningKey(store, 'EdDSA', ENCRYPTION_KEY, clock, RETAIN);
    expect(created).toMatchObject({ alg: 'EdDSA', activatesAt: T0, retiredAt: null });
    expect(await ensureActiveSigningKey(store, 'EdDSA', ENCRYPTION_KEY, clock, RETAIN)).toBeNull();
    // The configured algorithm changed: a key of the new one takes over at once.
    const switched = await ensureActiveSigningKey(store, 'ES256', ENCRYPTION_KEY, clock, RETAIN);
    expect(switched).toMatchObject({ alg: 'ES256', activatesAt: T0 });
    const retiredAt = new Map((await store.listSigningKeys()).map((k) => [k.alg, k.retiredAt]));
    expect(retiredAt).toEqual(new Map([['EdDSA', T0], ['ES256', null]]));
  });

  it('purges keys only once they have been out of the JWKS for the grace period', async () => {
    const first = await add('EdDSA', T0);
    const second = await add('EdDSA', T0 + MIN);
    expect(await purgeExpiredSigningKeys(store, T0 + MIN + RETAIN + MIN - 1, RETAIN, MIN)).toBe(0);
    expect(await purgeExpiredSigningKeys(store, T0 + MIN + RETAIN + MIN, RETAIN, MIN)).toBe(1);
    expect((await store.listSigningKeys()).map((k) => k.kid)).toEqual([second.kid]);
    expect(first.kid).not.toBe(second.kid);
  });

  it('does not accept a token signed by a foreign key that claims our kid', async () => {
    const key = await add('EdDSA', T0);
    const keySet = open();
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { privateKey } = await generateKeyPair('EdDSA');
    const forged = await new SignJWT({ sid: 's1', roles: ['admin'], preferred_username: 'alice' })
      .setProtectedHeader(pinnedHeader('EdDSA', key.kid).header)
      .setIssuer(OPTIONS.issuer).setAudience(OPTIONS.audience).setSubject('u1').setJti('j').setIssuedAt(T0 / 1000).setExpirationTime(T0 / 1000 + 60)
      .sign(privateKey);
    expect(await tokens.verify(forged)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });
});

describe('SigningKeyFile', () => {
  let dir: string;
  let path: string;
  const clock = new ManualClock(T0);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-keyfile-'));
    path = join(dir, 'keys.json');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (value: unknown) => writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 });
  const problem = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);

  it('the first key signs; the others are published and verify; the set follows the file on each sync', async () => {
    const first = await generatePrivateJWK('EdDSA');
    const second = await generatePrivateJWK('EdDSA');
    write({ keys: [first, second] });
    const keySet = new SigningKeySet(new SigningKeyFile(path, ENCRYPTION_KEY), ENCRYPTION_KEY, clock, { retainMs: RETAIN });
    await keySet.sync();
    const tokens = new AccessTokenService(keySet, OPTIONS, clock);
    const { token } = await tokens.issue(SUBJECT);
    expect(decodeProtectedHeader(token).kid).toBe(first.kid);
    expect(keySet.jwks().keys.map((k) => k.kid)).toEqual([first.kid, second.kid]);
    expect(JSON.stringify(keySet.jwks())).not.toContain('"d"');

    write({ keys: [second, first] }); // the successor takes over; the predecessor still verifies
    await keySet.sync();
    expect(decodeProtectedHeader((await tokens.issue(SUBJECT)).token).kid).toBe(second.kid);
    expect((await tokens.verify(token)).ok).toBe(true);

    write({ keys: [second] }); // the predecessor is gone, and with it its tokens, cached or not
    await keySet.sync();
    expect(await tokens.verify(token)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });

  it('refuses an unreadable or malformed file with CONFIG_INVALID naming the problem, never the key', async () => {
    const source = new SigningKeyFile(path, ENCRYPTION_KEY);
    expect(await problem(source.listSigningKeys())).toBe(`CONFIG_INVALID: signing.keysFile: ${path}: cannot read it (ENOENT)`);
    const good = await generatePrivateJWK('ES256');
    const { d: _d, ...publicOnly } = good;
    const cases: [unknown, string][] = [
      ['{', 'not valid JSON'],
      [{ keys: [] }, 'must be a JWK Set with at least one key: {"keys": [...]}'],
      [[good], 'must be a JWK Set with at least one key: {"keys": [...]}'],
      [{ keys: [{ ...good, kid: '' }] }, 'keys.0: needs a "kid" of 1-128 letters, digits or . _ ~ -'],
      [{ keys: [good, good] }, `keys.1: kid "${good.kid}" appears twice`],
      [{ keys: [{ ...good, alg: 'HS256' }] }, 'keys.0: "alg" must be one of EdDSA, ES256, RS256'],
      [{ keys: [publicOnly] }, 'keys.0: not a private key (no "d")'],
      [{ keys: [{ ...good, alg: 'EdDSA' }] }, 'keys.0: the key type does not fit alg EdDSA'],
    ];
    for (const [content, message] of cases) {
      write(content);
      const answer = await problem(source.listSigningKeys());
      expect(answer).toBe(`CONFIG_INVALID: signing.keysFile: ${path}: ${message}`);
      expect(answer).not.toContain(good.d);
    }
  });
});
