import { KeyObject, randomBytes } from 'node:crypto';
import {
  isNonEmptyString,
  isStringArray,
  isThumbprint,
  isUserVersion,
  readAccessTokenClaims,
  type AccessTokenClaims,
  type AccessTokenOptions,
} from './access-token-claims.js';
import { buildSignatureCheck, buildTokenSigning, isCanonicalBase64url, SHAPE, type SignatureCheck, type TokenSigning } from './access-token-jws.js';
import type { Clock } from './clock.js';
import { hs256Keys, type AccessTokenKeys, type TokenSigner, type TokenVerifier } from './token-keys.js';

export type { AccessTokenClaims, AccessTokenOptions } from './access-token-claims.js';
export { hs256Keys, type AccessTokenKeys, type TokenSigner, type TokenVerifier } from './token-keys.js';

/** The outcome of {@link AccessTokenService.verify}; codes match `ERRORS` in errors.ts. */
export type AccessTokenVerification =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | { readonly ok: false; readonly code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' };

/**
 * Longest token `verify` will look at; `issue` refuses to mint anything
 * longer. Below 4096 so that cookie name plus value stays under the browsers'
 * 4096-byte limit (a larger cookie is silently dropped).
 */
export const ACCESS_TOKEN_MAX_LENGTH = 3968;

/** How many verified tokens are remembered by default (see {@link AccessTokenService}). */
export const VERIFIED_TOKEN_CACHE_ENTRIES = 10_000;

const INVALID: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_INVALID' });
const EXPIRED: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_EXPIRED' });

/** A token that passed every check, and what it proved. */
interface VerifiedToken {
  /** The token's exact text: a cache hit must match all of it, not only the signature it is filed under. */
  readonly token: string;
  readonly verifier: TokenVerifier;
  readonly ok: { readonly ok: true; readonly claims: AccessTokenClaims };
}

/**
 * Issues and verifies RFC 9068 access tokens (`typ: at+jwt`), HS256 or
 * asymmetric (EdDSA, ES256, RS256) depending on the keys given. Both issuing
 * and verifying use fast-jwt, which signs and checks synchronously with
 * `node:crypto` (jose goes through WebCrypto and the libuv thread pool, about
 * 4x the CPU for HS256 one token at a time: see BENCHMARKS.md); jose verifies
 * what it signs (the interoperability tests).
 *
 * `check` never throws for a bad token and never consults the token for key
 * material or algorithm: the key is chosen by the token's exact header text
 * among our own keys, and only that key's alg is accepted (RFC 8725 §3.1,
 * §3.2). It does not know about revocation: callers must still check that
 * `claims.sid` names a live session.
 *
 * Verified tokens are remembered, at most `maxEntries` of them (default
 * {@link VERIFIED_TOKEN_CACHE_ENTRIES}; the oldest is forgotten first), so
 * a signed-in user's requests skip the signature but never the expiry check
 * nor the check that the key is still trusted (a key deleted after a
 * compromise takes its cached tokens with it). Only successes are cached, so
 * forged tokens cannot crowd out real ones. An entry costs about 1 KB (the
 * token's text and its claims), so the cache stays under about 10 MB.
 *
 * @example
 * ```ts
 * const service = new AccessTokenService(keys.accessToken,
 *   { issuer: 'https://auth.example', audience: 'https://api.example', ttlSeconds: 300, clockToleranceSeconds: 30 },
 *   systemClock);
 * const { token } = await service.issue({ userId: 'u1', username: 'alice', roles: ['user'], sessionId: 's1' });
 * const result = service.check(token); // a Promise only while the key is still being imported
 * ```
 */
export class AccessTokenService {
  readonly #options: AccessTokenOptions;
  readonly #clock: Clock;
  readonly #keys: AccessTokenKeys;
  /**
   * Verified tokens, filed under their signature segment: hashing those 43
   * (HS256) or 86 (EdDSA) characters and comparing the whole text measured
   * about 3x cheaper than hashing the whole token (≈ 0.2 against 0.6 µs for
   * 350 characters). The signature is only the key of the map: a hit must
   * still equal the token character for character.
   */
  readonly #verified = new Map<string, VerifiedToken>();
  readonly #cacheSize: number;
  /** One fast-jwt verifier per key, built on first use. */
  readonly #signatureChecks = new WeakMap<TokenVerifier, SignatureCheck>();
  /** One fast-jwt signer per key, built on first use. */
  readonly #signers = new WeakMap<TokenSigner, TokenSigning>();

  /**
   * @param keys an HS256 secret (at least 32 bytes), or an {@link AccessTokenKeys} source such as `SigningKeySet`.
   */
  constructor(keys: KeyObject | AccessTokenKeys, options: AccessTokenOptions, clock: Clock, cache: { readonly maxEntries?: number } = {}) {
    this.#cacheSize = cache.maxEntries ?? VERIFIED_TOKEN_CACHE_ENTRIES;
    this.#keys = isKeySource(keys) ? keys : hs256Keys(keys);
    const { issuer, audience, ttlSeconds, clockToleranceSeconds } = options;
    if (typeof issuer !== 'string' || issuer === '' || typeof audience !== 'string' || audience === '') {
      throw new TypeError('AccessTokenService needs a non-empty issuer and audience.');
    }
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new TypeError('ttlSeconds must be a positive whole number of seconds.');
    }
    if (!Number.isSafeInteger(clockToleranceSeconds) || clockToleranceSeconds < 0) {
      throw new TypeError('clockToleranceSeconds must be a whole number of seconds, zero or more.');
    }
    this.#options = Object.freeze({ issuer, audience, ttlSeconds, clockToleranceSeconds });
    this.#clock = clock;
  }

  /**
   * Mints an access token for `subject`, valid from now for `ttlSeconds`.
   *
   * @throws TypeError for a malformed subject or a token longer than
   *   {@link ACCESS_TOKEN_MAX_LENGTH} (too many roles): `verify` would reject it.
   * @example
   * ```ts
   * const { token, claims } = await service.issue({ userId, username, roles, sessionId });
   * ```
   */
  async issue(subject: {
    userId: string;
    username: string;
    roles: readonly string[];
    sessionId: string;
    /** The user's version that `roles` were read from (see {@link AccessTokenClaims.userVersion}); default 0. */
    userVersion?: number;
    /** The token never outlives this instant (ms since the epoch): the session's absolute expiry. */
    notAfter?: number;
    /** Bind the token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6.1). */
    jkt?: string;
  }): Promise<{ token: string; claims: AccessTokenClaims }> {
    const { userId, username, roles, sessionId, jkt, userVersion = 0 } = subject;
    if (!isNonEmptyString(userId) || !isNonEmptyString(sessionId) || typeof username !== 'string') {
      throw new TypeError('issue() needs a non-empty userId and sessionId and a string username.');
    }
    if (jkt !== undefined && !isThumbprint(jkt)) throw new TypeError('issue() needs jkt as a JWK SHA-256 thumbprint (43 base64url characters).');
    if (!isStringArray(roles)) throw new TypeError('issue() needs roles as an array of strings.');
    if (!isUserVersion(userVersion)) throw new TypeError('issue() needs userVersion as a whole number, zero or more.');
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: AccessTokenClaims = Object.freeze({
      iss: this.#options.issuer,
      aud: this.#options.audience,
      sub: userId,
      sid: sessionId,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: Math.max(iat + 1, Math.min(iat + this.#options.ttlSeconds, Math.floor((subject.notAfter ?? Infinity) / 1000))),
      roles: Object.freeze([...roles]),
      username,
      userVersion,
      ...(jkt === undefined ? {} : { cnf: Object.freeze({ jkt }) }),
    });
    const signer = this.#keys.signer();
    const signing = this.#signers.get(signer) ?? (await this.#prepareSigner(signer));
    const token = signing.sign({
      iss: claims.iss,
      aud: claims.aud,
      sub: claims.sub,
      sid: claims.sid,
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
      roles: claims.roles,
      preferred_username: username,
      uv: userVersion,
      ...(jkt === undefined ? {} : { cnf: { jkt } }),
    });
    // A library update that wrote the header differently would mint tokens no instance accepts: fail now, loudly.
    if (!token.startsWith(signing.headerPrefix)) throw new Error('The signed access token does not carry the pinned header.');
    if (token.length > ACCESS_TOKEN_MAX_LENGTH) {
      throw new TypeError(`The access token would exceed ${ACCESS_TOKEN_MAX_LENGTH} characters; reduce the roles.`);
    }
    return { token, claims };
  }

  /**
   * Checks `token` and returns its claims, or why it was refused. Never throws.
   * `TOKEN_EXPIRED` means "ours, intact and otherwise valid, but past `exp`"
   * (the client should refresh); everything else is `TOKEN_INVALID`.
   *
   * The answer is immediate (no Promise, no microtask) except for the first
   * token of a key whose import has not finished yet, just after start-up.
   *
   * @example
   * ```ts
   * const result = await service.check(bearer);
   * if (result.ok) console.log(result.claims.sub);
   * ```
   */
  check(token: string): AccessTokenVerification | Promise<AccessTokenVerification> {
    if (typeof token !== 'string' || token.length > ACCESS_TOKEN_MAX_LENGTH) return INVALID;
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const known = this.#verified.get(signature);
    if (known !== undefined && known.token === token) {
      // The same rule as for a fresh token: expired once exp <= now - leeway; and its key must still be trusted.
      if (!this.#keys.trusts(known.verifier)) this.#verified.delete(signature);
      else if (known.ok.claims.exp > this.#clock.now() / 1000 - this.#options.clockToleranceSeconds) return known.ok;
      else {
        this.#verified.delete(signature);
        return EXPIRED;
      }
    }
    // The first segment picks the key; nothing else in the token is looked at before the signature.
    const dot = token.indexOf('.');
    const verifier = dot > 0 ? this.#keys.verifierFor(token.slice(0, dot)) : undefined;
    if (verifier === undefined) return INVALID;
    // Cheap structural gates before any JSON or crypto work (DoS guard), and one
    // spelling per signature: base64url leaves the low bits of the last character
    // unused, and a decoder ignores them, so each signature has 4 (HS256) or 16
    // (EdDSA) spellings; only the canonical one, with those bits zero, is ours.
    if (!SHAPE.test(token) || !isCanonicalBase64url(signature)) return INVALID;
    const signatureCheck = this.#signatureChecks.get(verifier);
    if (signatureCheck === undefined) return this.#prepare(verifier).then(() => this.check(token));
    return this.#verify(token, signature, verifier, signatureCheck);
  }

  /** How many verified tokens are remembered now: never more than the cache's `maxEntries`. */
  get cachedTokens(): number {
    return this.#verified.size;
  }

  /** {@link check}, always as a Promise. */
  async verify(token: string): Promise<AccessTokenVerification> {
    return this.check(token);
  }

  #verify(token: string, signature: string, verifier: TokenVerifier, signatureCheck: SignatureCheck): AccessTokenVerification {
    let payload: unknown;
    try {
      payload = signatureCheck(token);
    } catch {
      return INVALID;
    }
    const claims = readAccessTokenClaims(payload, this.#options, this.#clock);
    if (claims === null) return INVALID;
    // Only now, with everything else proven, is "expired" an answer of its own.
    if (claims.exp <= this.#clock.now() / 1000 - this.#options.clockToleranceSeconds) return EXPIRED;
    const ok = Object.freeze({ ok: true as const, claims });
    if (this.#cacheSize > 0) {
      if (this.#verified.size >= this.#cacheSize) {
        // Oldest first: Map iteration follows insertion order.
        const oldest = this.#verified.keys().next().value;
        if (oldest !== undefined) this.#verified.delete(oldest);
      }
      this.#verified.set(signature, { token, verifier, ok });
    }
    return ok;
  }

  /** The signer for `signer`'s key, built once. */
  async #prepareSigner(signer: TokenSigner): Promise<TokenSigning> {
    const known = this.#signers.get(signer);
    if (known !== undefined) return known;
    const signing = await buildTokenSigning(signer);
    this.#signers.set(signer, signing);
    return signing;
  }

  /** The signature check for `verifier`'s key, built once. */
  async #prepare(verifier: TokenVerifier): Promise<void> {
    if (this.#signatureChecks.has(verifier)) return;
    this.#signatureChecks.set(verifier, await buildSignatureCheck(verifier));
  }
}

function isKeySource(keys: KeyObject | AccessTokenKeys): keys is AccessTokenKeys {
  return typeof (keys as AccessTokenKeys).verifierFor === 'function' && typeof (keys as AccessTokenKeys).trusts === 'function';
}
