// What checking one access token costs, in CPU µs of this process (all its threads, so
// WebCrypto's thread pool counts too), one token at a time as requests arrive:
// - the bare signature check with node:crypto (the floor a JWT library can approach),
// - Gatehouse's check of a token it has not seen (a miss: header pin, shape, signature, claims),
// - a cache hit, and, for reference, fast-jwt alone (the library Gatehouse's check uses) and
//   jose's jwtVerify (what it used before).
// Also how much memory the verified-token cache holds when full (needs --expose-gc).
// Usage: node --expose-gc bench/token-costs.mjs [tokens]; prints one JSON line.
import { createHmac, KeyObject, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { generateKeyPair, jwtVerify } from 'jose';
import { systemClock } from '@gatehouse/server';
import { AccessTokenService, VERIFIED_TOKEN_CACHE_ENTRIES } from '../packages/server/dist/core/access-token.js';
import { deriveKeyRing } from '../packages/server/dist/core/keys.js';
import { pinnedHeader } from '../packages/server/dist/core/token-keys.js';

const COUNT = Number(process.argv[2] ?? 2000);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OPTIONS = { issuer: 'https://bench.example', audience: 'https://bench.example', ttlSeconds: 3600, clockToleranceSeconds: 5 };
const SUBJECT = { userId: 'u1', username: 'bench', roles: ['user'], sessionId: 's1' };

/** CPU µs per call of `fn` over `items`, awaiting each answer before the next call. */
async function perItem(items, fn) {
  const started = process.cpuUsage();
  for (const item of items) {
    const answer = fn(item);
    if (answer instanceof Promise) await answer;
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / items.length;
}

async function keySources() {
  const hs = deriveKeyRing(SECRET).accessToken;
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const { header, encoded } = pinnedHeader('EdDSA', 'bench');
  const verifier = { alg: 'EdDSA', encodedHeader: encoded, key: publicKey };
  const eddsa = { signer: () => ({ header, key: privateKey }), verifierFor: (text) => (text === encoded ? verifier : undefined), trusts: (v) => v === verifier };
  return {
    HS256: { source: hs, fastJwt: createVerifier({ key: hs.export(), algorithms: ['HS256'], ignoreExpiration: true, cache: false }), bare: (input, signature) => timingSafeEqual(createHmac('sha256', hs).update(input).digest(), signature), jose: await deriveJoseKey(hs) },
    EdDSA: { source: eddsa, fastJwt: createVerifier({ key: KeyObject.from(publicKey).export({ type: 'spki', format: 'pem' }), algorithms: ['EdDSA'], ignoreExpiration: true, cache: false }), bare: ((key) => (input, signature) => verifySignature(null, Buffer.from(input), key, signature))(KeyObject.from(publicKey)), jose: publicKey },
  };
}

/** jose wants a CryptoKey for HS256 (a KeyObject is re-imported on every call on Node 20). */
async function deriveJoseKey(secretKey) {
  const { webcrypto } = await import('node:crypto');
  return webcrypto.subtle.importKey('raw', secretKey.export(), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

const result = {};
for (const [alg, keys] of Object.entries(await keySources())) {
  const issuer = new AccessTokenService(keys.source, OPTIONS, systemClock, { maxEntries: 0 });
  const tokens = [];
  for (let i = 0; i < COUNT; i++) tokens.push((await issuer.issue(SUBJECT)).token);
  const runs = { bare: [], fastJwt: [], miss: [], hit: [], jose: [] };
  // Round 0 warms the JIT up and is not counted; the median of the other four is reported.
  for (let round = 0; round < 5; round++) {
    runs.bare.push(
      await perItem(tokens, (token) => {
        const dot = token.lastIndexOf('.');
        if (!keys.bare(token.slice(0, dot), Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bare check failed');
      }),
    );
    runs.fastJwt.push(await perItem(tokens, (token) => keys.fastJwt(token)));
    // A fresh service each round, so every token is new to it; its key is imported before timing.
    const checker = new AccessTokenService(keys.source, OPTIONS, systemClock);
    await checker.check(await issuer.issue(SUBJECT).then((t) => t.token));
    runs.miss.push(await perItem(tokens, (token) => checker.check(token)));
    runs.hit.push(await perItem(tokens, () => checker.check(tokens[0])));
    runs.jose.push(await perItem(tokens, (token) => jwtVerify(token, keys.jose, { algorithms: [alg] })));
  }
  const median = (xs) => {
    const [, a, b] = xs.slice(1).sort((x, y) => x - y);
    return (a + b) / 2;
  };
  result[alg] = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
}

/**
 * Fills a cache with twice its capacity of distinct HS256 tokens and reports how many it kept
 * and how much the heap grew (token text included: the only references left are the cache's).
 */
async function cacheMemory() {
  if (typeof globalThis.gc !== 'function') return undefined;
  const cap = VERIFIED_TOKEN_CACHE_ENTRIES;
  const keys = deriveKeyRing(SECRET).accessToken;
  const issuer = new AccessTokenService(keys, OPTIONS, systemClock, { maxEntries: 0 });
  const cache = new AccessTokenService(keys, OPTIONS, systemClock);
  await cache.check((await issuer.issue(SUBJECT)).token); // key imported, first entry in
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  let inserted = 1;
  for (let i = 0; i < 2 * cap; i += 500) {
    const batch = await Promise.all(Array.from({ length: 500 }, () => issuer.issue(SUBJECT)));
    for (const { token } of batch) if ((await cache.check(token)).ok) inserted++;
  }
  globalThis.gc();
  const grown = process.memoryUsage().heapUsed - before;
  return { cap, inserted, entries: cache.cachedTokens, bytesPerEntry: grown / cap, totalMB: grown / 2 ** 20 };
}

process.stdout.write(`${JSON.stringify({ count: COUNT, ...result, cache: await cacheMemory() })}\n`);
