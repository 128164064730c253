import { KeyObject, randomBytes } from 'node:crypto';
import { createSigner, createVerifier, type Algorithm } from 'fast-jwt';
import type { Clock } from './clock.js';
import { hs256Keys, type AccessTokenKeys, type TokenSigner, type TokenVerifier } from './token-keys.js';

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
  /**
   * The key the token is bound to (RFC 9449 §6.1): the JWK SHA-256 thumbprint
   * of the client's DPoP key. A token with `cnf` is good only with a proof
   * signed by that key; the guard refuses it as `Bearer` or in a cookie.
   */
  readonly cnf?: { readonly jkt: string };
  /**
   * Sent as `uv`: the version of the user (bumped by every change to roles,
   * password or status) that `roles` were read from, so the revocation list can
   * tell a token from before a change without comparing times. A token without
   * `uv` (minted before it existed) reads as -1: older than any change.
   */
  readonly userVersion: number;
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
 * fast-jwt serialises the header with JSON.stringify, so the first segment
 * of every token we issue is byte-for-byte known in advance (`issue` checks
 * it, and the round-trip tests prove it). Comparing strings rejects, before any parsing or crypto,
 * every other header: other algs, `none` in any case, HS256 under an
 * asymmetric kid, unknown kids, other `typ`, and any `jku`/`jwk`/`x5u`/`x5c`/`crit`.
 */
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** How many verified tokens are remembered by default (see {@link AccessTokenService}). */
export const VERIFIED_TOKEN_CACHE_ENTRIES = 10_000;

const INVALID: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_INVALID' });
const EXPIRED: AccessTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_EXPIRED' });

/** Checks a token's signature (and `alg`, `typ`) synchronously with `node:crypto`; throws when it does not hold. */
type SignatureCheck = (token: string) => unknown;

/** Signs a payload synchronously with `node:crypto` under one key's pinned header. */
interface TokenSigning {
  readonly sign: (payload: Readonly<Record<string, unknown>>) => string;
  /** The first segment and its dot, which every token of this key must start with. */
  readonly headerPrefix: string;
}

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
    const claims = this.#readClaims(payload);
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

  /**
   * Builds the fast-jwt signer for `signer`'s key once: HS256 wants the
   * secret's bytes (a copy is kept in a KeyObject, the buffer is wiped), the
   * others a PKCS #8 PEM private key. The header is `alg`, `typ` and `kid`
   * only, exactly the pinned one (fast-jwt writes `typ` where its default `JWT` stands, after `alg`).
   */
  async #prepareSigner(signer: TokenSigner): Promise<TokenSigning> {
    const known = this.#signers.get(signer);
    if (known !== undefined) return known;
    const { alg, kid } = signer.header;
    const key = KeyObject.from(await signer.key);
    const material = key.type === 'secret' ? key.export() : key.export({ type: 'pkcs8', format: 'pem' });
    let sign: TokenSigning['sign'];
    try {
      sign = createSigner({ key: material, algorithm: alg as Algorithm, header: { alg, typ: 'at+jwt' }, ...(kid === undefined ? {} : { kid }) });
    } finally {
      if (Buffer.isBuffer(material)) material.fill(0);
    }
    const signing: TokenSigning = { sign, headerPrefix: `${Buffer.from(JSON.stringify(signer.header)).toString('base64url')}.` };
    this.#signers.set(signer, signing);
    return signing;
  }

  /** Builds the fast-jwt verifier for `verifier`'s key once: HS256 wants the secret's bytes, the others a PEM public key. */
  async #prepare(verifier: TokenVerifier): Promise<void> {
    if (this.#signatureChecks.has(verifier)) return;
    const key = KeyObject.from(await verifier.key);
    const material = key.type === 'secret' ? key.export() : key.export({ type: 'spki', format: 'pem' });
    this.#signatureChecks.set(
      verifier,
      createVerifier({
        key: material,
        algorithms: [verifier.alg as Algorithm],
        checkTyp: 'at+jwt',
        // Times are checked in #readClaims against this service's clock, which tests can move.
        ignoreExpiration: true,
        ignoreNotBefore: true,
        cache: false,
      }),
    );
  }

  /**
   * Type-checks the payload, copying only known fields (no prototype tricks).
   * Times must be whole seconds, `iat` not in the future, and the token may
   * not live longer than this service issues tokens for (plus the leeway):
   * that bounds `exp` too, so no absurd value reaches the rest of the server.
   */
  #readClaims(payload: unknown): AccessTokenClaims | null {
    if (typeof payload !== 'object' || payload === null) return null;
    const { iss, aud, sub, sid, jti, iat, exp, nbf, roles, preferred_username: username, cnf, uv } = payload as Record<string, unknown>;
    const { issuer, audience, ttlSeconds, clockToleranceSeconds } = this.#options;
    if (iss !== issuer || aud !== audience) return null; // aud must not be an array
    if (!isNonEmptyString(sub) || !isNonEmptyString(sid) || !isNonEmptyString(jti)) return null;
    if (!isSeconds(iat) || !isSeconds(exp) || exp <= iat || exp - iat > ttlSeconds + clockToleranceSeconds) return null;
    const latest = this.#clock.now() / 1000 + clockToleranceSeconds;
    // A token "issued" (or valid only) in the future was not issued by this clock.
    if (iat > latest || (nbf !== undefined && (!isSeconds(nbf) || nbf > latest))) return null;
    if (!isStringArray(roles) || typeof username !== 'string') return null;
    if (uv !== undefined && !isUserVersion(uv)) return null;
    const claims = { iss: issuer, aud: audience, sub, sid, jti, iat, exp, roles: Object.freeze([...roles]), username, userVersion: uv ?? -1 };
    if (cnf === undefined) return Object.freeze(claims);
    // A confirmation we cannot check (no jkt, another kind of key binding) is never ignored: the token is refused.
    const jkt = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) && Object.keys(cnf).length === 1 ? (cnf as Record<string, unknown>).jkt : undefined;
    if (!isThumbprint(jkt)) return null;
    return Object.freeze({ ...claims, cnf: Object.freeze({ jkt }) });
  }
}

function isKeySource(keys: KeyObject | AccessTokenKeys): keys is AccessTokenKeys {
  return typeof (keys as AccessTokenKeys).verifierFor === 'function' && typeof (keys as AccessTokenKeys).trusts === 'function';
}

/** A JWK SHA-256 thumbprint (RFC 7638) in base64url: 43 characters. */
function isThumbprint(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether `text` (base64url characters only, as SHAPE checked) is the one
 * spelling of its bytes that an encoder produces: no impossible length, and
 * the bits of the last character that carry no data (2 or 4 of them) zero.
 */
function isCanonicalBase64url(text: string): boolean {
  const unusedBits = (text.length * 6) % 8;
  if (unusedBits === 6) return false; // one character past a whole group encodes no byte
  return (BASE64URL.indexOf(text.charAt(text.length - 1)) & ((1 << unusedBits) - 1)) === 0;
}

/** A NumericDate as this service issues them: whole seconds, not before 1970, not past 2^53. */
function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A user version as issued: a whole number, zero or more. */
function isUserVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
