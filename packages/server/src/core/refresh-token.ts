import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Every refresh token starts with this. The prefix lets secret scanners (GitHub,
 * GitGuardian, log filters) spot leaked tokens, and makes a refresh token
 * impossible to confuse with an access token (a JWT) or a CSRF token.
 */
export const REFRESH_TOKEN_PREFIX = 'ghr_';

/** Random bytes per token: 256 bits, far above ASVS's 128-bit floor. */
const TOKEN_BYTES = 32;

/**
 * `ghr_` then 43 base64url characters. 32 bytes leave 2 spare bits in the last
 * character, which must be zero in the canonical encoding, so the last character
 * is one of 16; anything else is a hand-edited or corrupted token.
 */
const WELL_FORMED = /^ghr_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Upper bound for {@link deriveSuccessorN}; more would mean a runaway loop. */
export const MAX_SUCCESSOR_DEPTH = 32;

/**
 * A fresh refresh token: `ghr_` + base64url of 32 CSPRNG bytes.
 *
 * @example
 * ```ts
 * const token = generateRefreshToken(); // 'ghr_3q2-…' (47 characters)
 * await store.insert({ hash: hashRefreshToken(token), sessionId });
 * ```
 */
export function generateRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * True when `value` has exactly the shape {@link generateRefreshToken} produces.
 * Check this before touching the store, so junk never costs a lookup.
 *
 * @example
 * ```ts
 * if (!isWellFormedRefreshToken(cookie)) throw new GatehouseError('REFRESH_TOKEN_INVALID');
 * ```
 */
export function isWellFormedRefreshToken(value: string): boolean {
  return typeof value === 'string' && WELL_FORMED.test(value);
}

/**
 * The value to store and look up instead of the token: SHA-256, base64url.
 *
 * A fast, unsalted hash is right here and would be wrong for passwords: the
 * token is 256 bits from a CSPRNG, so there is no dictionary to try and brute
 * force is 2^256 work however fast the hash is. Salting would also make the
 * lookup by hash impossible. Storing only the hash means a database leak does
 * not hand out live sessions.
 *
 * @example
 * ```ts
 * const row = await store.findByHash(hashRefreshToken(token));
 * ```
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * The token that replaces `token` on rotation: `ghr_` + base64url(HMAC-SHA256(
 * key, token)). Deterministic, so concurrent refreshes presenting the same
 * token inside the grace window can all be answered with the same successor,
 * while the store keeps only hashes. Only the server, holding `key` (the
 * key ring's `refreshDerivation` subkey), can compute it; a thief holding the
 * old token learns nothing about the new one.
 *
 * @example
 * ```ts
 * const successor = deriveSuccessor(keys.refreshDerivation, presented);
 * await store.rotate(hashRefreshToken(presented), hashRefreshToken(successor));
 * ```
 */
export function deriveSuccessor(key: KeyObject, token: string): string {
  return REFRESH_TOKEN_PREFIX + createHmac('sha256', key).update(token, 'utf8').digest('base64url');
}

/**
 * The token that replaces a successor that was never used: `ghr_` +
 * base64url(HMAC-SHA256(key, "replacement:" + token)). A client whose refresh
 * response was lost presents `token` again after the grace window; if the
 * successor was never presented, the store lets this one take its place once
 * (see `docs/http-api.md`). The label keeps it apart from every
 * {@link deriveSuccessor} output, so whoever holds the old successor holds
 * nothing that works; and it is deterministic, so parallel retries get the
 * same replacement.
 *
 * @example
 * ```ts
 * const replacement = deriveReplacement(keys.refreshDerivation, presented);
 * replacement !== deriveSuccessor(keys.refreshDerivation, presented); // true
 * ```
 */
export function deriveReplacement(key: KeyObject, token: string): string {
  return REFRESH_TOKEN_PREFIX + createHmac('sha256', key).update(`replacement:${token}`, 'utf8').digest('base64url');
}

/**
 * Follows a chain of successors from `token`: each step is a
 * {@link deriveSuccessor} (`'derived'`) or a {@link deriveReplacement}
 * (`'replacement'`). What a late racer inside the grace window is answered with.
 *
 * @throws TypeError unless the path has 1 to {@link MAX_SUCCESSOR_DEPTH} steps.
 * @example
 * ```ts
 * deriveAlong(key, t, ['derived', 'replacement']) === deriveReplacement(key, deriveSuccessor(key, t)); // true
 * ```
 */
export function deriveAlong(key: KeyObject, token: string, path: readonly ('derived' | 'replacement')[]): string {
  if (path.length < 1 || path.length > MAX_SUCCESSOR_DEPTH) {
    throw new TypeError(`path must have 1 to ${MAX_SUCCESSOR_DEPTH} steps.`);
  }
  let current = token;
  for (const step of path) current = step === 'derived' ? deriveSuccessor(key, current) : deriveReplacement(key, current);
  return current;
}

/**
 * Applies {@link deriveSuccessor} `n` times: the successor's successor, and so
 * on. Useful when a late racer presents a token already rotated more than once.
 *
 * @throws TypeError unless `n` is a whole number from 1 to {@link MAX_SUCCESSOR_DEPTH}.
 * @example
 * ```ts
 * deriveSuccessorN(key, t, 2) === deriveSuccessor(key, deriveSuccessor(key, t)); // true
 * ```
 */
export function deriveSuccessorN(key: KeyObject, token: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SUCCESSOR_DEPTH) {
    throw new TypeError(`n must be a whole number from 1 to ${MAX_SUCCESSOR_DEPTH}.`);
  }
  let current = token;
  for (let i = 0; i < n; i++) current = deriveSuccessor(key, current);
  return current;
}
