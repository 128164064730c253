import { randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTVerifyOptions } from 'jose';
import type { Clock } from './clock.js';

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

/** RFC 9068 header. The alg is fixed here, never read from a token. */
const HEADER = Object.freeze({ alg: 'HS256', typ: 'at+jwt' } as const);

/**
 * The exact first segment of every token we issue. jose serialises the header
 * object with JSON.stringify, so this is byte-for-byte what `issue` produces
 * (the round-trip test proves it). Comparing strings rejects, before any
 * parsing or crypto, every other header: other algs, `none` in any case,
 * other `typ`, and any `kid`/`jku`/`jwk`/`x5u`/`x5c`/`crit` parameter.
 * Adding key rotation (a `kid`) means changing this constant deliberately.
 */
const ENCODED_HEADER = Buffer.from(JSON.stringify(HEADER)).toString('base64url');

/** header.payload.signature; an HS256 signature is 32 bytes = 43 base64url chars. */
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

const INVALID: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_INVALID' });
const EXPIRED: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_EXPIRED' });

/**
 * Issues and verifies RFC 9068 access tokens (HS256, `typ: at+jwt`).
 *
 * `verify` never throws for a bad token and never consults the token for key
 * material or algorithm: the only key is the one given here and the only alg is
 * HS256 (RFC 8725 §3.1, §3.2). It does not know about revocation: callers must
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
  /**
   * jose 6 on Node 20 re-imports a secret KeyObject (export + importKey) on
   * every call because `KeyObject.toCryptoKey` only exists from Node 22.10,
   * which measured at about half speed. So the key is imported once, here, as a
   * non-extractable CryptoKey, and that is what jose sees.
   */
  readonly #key: Promise<webcrypto.CryptoKey>;
  /** Built once; `currentDate` is a getter so each check reads the clock. */
  readonly #verifyOptions: JWTVerifyOptions;
  /**
   * Tokens already verified, by their exact text. A hit skips the signature
   * (the costly part) but never the expiry check; revocation is the caller's
   * check and runs on every request either way. Only successes are cached, so
   * forged tokens cannot crowd out real ones.
   */
  readonly #verified = new Map<string, AccessTokenClaims>();
  readonly #cacheSize: number;

  constructor(key: KeyObject, options: AccessTokenOptions, clock: Clock, cache: { readonly maxEntries?: number } = {}) {
    this.#cacheSize = cache.maxEntries ?? 10_000;
    if (key.type !== 'secret' || (key.symmetricKeySize ?? 0) < 32) {
      throw new TypeError('AccessTokenService needs a secret key of at least 32 bytes.');
    }
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
    const raw = key.export();
    this.#key = webcrypto.subtle
      .importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
      .finally(() => raw.fill(0));
    this.#verifyOptions = {
      algorithms: ['HS256'],
      typ: 'at+jwt',
      issuer,
      audience,
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      get currentDate() {
        return new Date(clock.now());
      },
    };
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
    const token = await new SignJWT({ sid: claims.sid, roles: claims.roles, preferred_username: username })
      .setProtectedHeader(HEADER)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(await this.#key);
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
    // Cheap structural gate before any JSON or crypto work (DoS and confusion guard).
    if (
      typeof token !== 'string' ||
      token.length > ACCESS_TOKEN_MAX_LENGTH ||
      !token.startsWith(ENCODED_HEADER) ||
      token.charCodeAt(ENCODED_HEADER.length) !== 0x2e /* '.' */ ||
      !SHAPE.test(token)
    ) {
      return INVALID;
    }
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      // The same rule as jose: expired once exp <= now - tolerance.
      if (cached.exp > Math.floor(this.#clock.now() / 1000) - this.#options.clockToleranceSeconds) return { ok: true, claims: cached };
      this.#verified.delete(token);
      return EXPIRED;
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.#key, this.#verifyOptions));
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
      this.#verified.set(token, claims);
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

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
