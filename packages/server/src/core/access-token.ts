import { randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTVerifyOptions } from 'jose';
import type { Clock } from './clock.js';
import { hs256Keys, type AccessTokenKeys, type TokenVerifier } from './token-keys.js';

export { hs256Keys, type AccessTokenKeys, type TokenSigner, type TokenVerifier } from './token-keys.js';

/** The claims of a Gatehouse access token, as verified. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  /** The user id. */
  readonly sub: string;
  /** The session id: the HTTP layer must still check the session is live. */
  readonly sid: string;
  readonly jti: string;
  /** Issued at, in seconds since the epoch. */
  readonly iat: number;
  /** Expires at, in seconds since the epoch. */
  readonly exp: number;
  readonly roles: readonly string[];
  /** Sent on the wire as `preferred_username` (the OIDC claim name). */
  readonly username: string;
}

/** How access tokens are issued and checked. */
export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Lifetime in whole seconds. */
  readonly ttlSeconds: number;
  /** Allowed clock skew in whole seconds, applied to `exp`, `nbf` and `iat`. */
  readonly clockToleranceSeconds: number;
}

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

/**
 * header.payload.signature, base64url only. The header part is then matched
 * exactly against our keys' pinned headers (see {@link AccessTokenKeys}):
 * jose serialises a header object with JSON.stringify, so the first segment
 * of every token we issue is byte-for-byte known in advance (the round-trip
 * test proves it). Comparing strings rejects, before any parsing or crypto,
 * every other header: other algs, `none` in any case, HS256 under an
 * asymmetric kid, unknown kids, other `typ`, and any `jku`/`jwk`/`x5u`/`x5c`/`crit`.
 */
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const INVALID: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_INVALID' });
const EXPIRED: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_EXPIRED' });

/**
 * Issues and verifies RFC 9068 access tokens (`typ: at+jwt`), HS256 or
 * asymmetric (EdDSA, ES256, RS256) depending on the keys given.
 *
 * `verify` never throws for a bad token and never consults the token for key
 * material or algorithm: the key is chosen by the token's exact header text
 * among our own keys, and jose is told to accept only that key's alg
 * (RFC 8725 §3.1, §3.2). It does not know about revocation: callers must
 * still check that `claims.sid` names a live session.
 *
 * @example
 * ```ts
 * const service = new AccessTokenService(keys.accessToken,
 *   { issuer: 'https://auth.example', audience: 'https://api.example', ttlSeconds: 300, clockToleranceSeconds: 30 },
 *   systemClock);
 * const { token } = await service.issue({ userId: 'u1', username: 'alice', roles: ['user'], sessionId: 's1' });
 * const result = await service.verify(token);
 * if (!result.ok) throw new GatehouseError(result.code);
 * ```
 */
export class AccessTokenService {
  readonly #options: AccessTokenOptions;
  readonly #clock: Clock;
  readonly #keys: AccessTokenKeys;
  /** Built once per algorithm; `currentDate` is a getter so each check reads the clock. */
  readonly #verifyOptions = new Map<string, JWTVerifyOptions>();
  /**
   * Tokens already verified, keyed by their exact text, each with the key that
   * verified it. A hit skips the signature (the costly part: Ed25519 about
   * 90 µs, ES256 70 µs, HS256 5 µs) but never the expiry check, nor the check
   * that its key is still trusted (a key deleted after a compromise takes its
   * cached tokens with it); revocation is the caller's check and runs on
   * every request either way. Only successes are cached, so forged tokens
   * cannot crowd out real ones.
   *
   * Why the text and not a SHA-256 of it (as issue 5 first suggested): measured
   * on this machine with 540-character tokens, a hit keyed by the string costs
   * about 1.3 µs, keyed by the hash about 2.9 µs; hashing alone would spend
   * half of the guard's 3 µs budget (PERFORMANCE.md). Hashing would protect
   * nothing: the token is in this heap anyway while its request runs, next to
   * the signing key, and only tokens we signed ever enter the map, so nobody
   * can choose keys to flood it. The price is memory: about 0.6 KB per entry,
   * 6 MB at the 10,000-entry bound.
   */
  readonly #verified = new Map<string, { readonly claims: AccessTokenClaims; readonly verifier: TokenVerifier }>();
  readonly #cacheSize: number;

  /**
   * @param keys an HS256 secret (at least 32 bytes), or an {@link AccessTokenKeys} source such as `SigningKeySet`.
   */
  constructor(keys: KeyObject | AccessTokenKeys, options: AccessTokenOptions, clock: Clock, cache: { readonly maxEntries?: number } = {}) {
    this.#cacheSize = cache.maxEntries ?? 10_000;
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

  /** jose options that accept exactly `alg`; built once per algorithm, not per call. */
  #optionsFor(alg: string): JWTVerifyOptions {
    let options = this.#verifyOptions.get(alg);
    if (options === undefined) {
      const clock = this.#clock;
      options = {
        algorithms: [alg],
        typ: 'at+jwt',
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        clockTolerance: this.#options.clockToleranceSeconds,
        requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
        get currentDate() {
          return new Date(clock.now());
        },
      };
      this.#verifyOptions.set(alg, options);
    }
    return options;
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
    /** The token never outlives this instant (ms since the epoch): the session's absolute expiry. */
    notAfter?: number;
  }): Promise<{ token: string; claims: AccessTokenClaims }> {
    const { userId, username, roles, sessionId } = subject;
    if (!isNonEmptyString(userId) || !isNonEmptyString(sessionId) || typeof username !== 'string') {
      throw new TypeError('issue() needs a non-empty userId and sessionId and a string username.');
    }
    if (!isStringArray(roles)) throw new TypeError('issue() needs roles as an array of strings.');
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
    });
    const signer = this.#keys.signer();
    const token = await new SignJWT({ sid: claims.sid, roles: claims.roles, preferred_username: username })
      .setProtectedHeader(signer.header)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(await signer.key);
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
   * @example
   * ```ts
   * const result = await service.verify(bearer);
   * if (result.ok) console.log(result.claims.sub);
   * ```
   */
  async verify(token: string): Promise<AccessTokenVerification> {
    if (typeof token !== 'string' || token.length > ACCESS_TOKEN_MAX_LENGTH) return INVALID;
    // A cached token is the exact text of one that passed every check below; it
    // still has to be unexpired and signed by a key we still trust.
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (this.#keys.trusts(cached.verifier)) {
        // The same rule as jose: expired once exp <= now - tolerance.
        if (cached.claims.exp > Math.floor(this.#clock.now() / 1000) - this.#options.clockToleranceSeconds) return { ok: true, claims: cached.claims };
        this.#verified.delete(token);
        return EXPIRED;
      }
      this.#verified.delete(token);
    }
    // The first segment picks the key; nothing else in the token is looked at before the signature.
    const dot = token.indexOf('.');
    const verifier = dot > 0 ? this.#keys.verifierFor(token.slice(0, dot)) : undefined;
    if (verifier === undefined) return INVALID;
    // Cheap structural gate before any JSON or crypto work (DoS guard).
    if (!SHAPE.test(token)) return INVALID;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await verifier.key, this.#optionsFor(verifier.alg)));
    } catch (error) {
      // jose checks the signature first, then typ, iss, aud, nbf and only then
      // exp, so JWTExpired implies everything but the expiry was fine.
      return error instanceof joseErrors.JWTExpired ? EXPIRED : INVALID;
    }
    const claims = this.#readClaims(payload);
    if (claims === null) return INVALID;
    if (this.#cacheSize > 0) {
      if (this.#verified.size >= this.#cacheSize) {
        // Oldest first: Map iteration follows insertion order.
        const oldest = this.#verified.keys().next().value;
        if (oldest !== undefined) this.#verified.delete(oldest);
      }
      this.#verified.set(token, { claims, verifier });
    }
    return { ok: true, claims };
  }

  /** Type-checks what jose does not, copying only known fields (no prototype tricks). */
  #readClaims(payload: Record<string, unknown>): AccessTokenClaims | null {
    const { iss, aud, sub, sid, jti, iat, exp, roles, preferred_username: username } = payload;
    if (iss !== this.#options.issuer || aud !== this.#options.audience) return null; // aud must not be an array
    if (!isNonEmptyString(sub) || !isNonEmptyString(sid) || !isNonEmptyString(jti)) return null;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat) return null;
    // A token "issued" in the future was not issued by this clock.
    if (iat > this.#clock.now() / 1000 + this.#options.clockToleranceSeconds) return null;
    if (!isStringArray(roles) || typeof username !== 'string') return null;
    return Object.freeze({
      iss: this.#options.issuer,
      aud: this.#options.audience,
      sub,
      sid,
      jti,
      iat,
      exp,
      roles: Object.freeze([...roles]),
      username,
    });
  }
}

function isKeySource(keys: KeyObject | AccessTokenKeys): keys is AccessTokenKeys {
  return typeof (keys as AccessTokenKeys).verifierFor === 'function' && typeof (keys as AccessTokenKeys).trusts === 'function';
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
