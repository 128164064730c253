import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../core/clock.js';
import type { TokenSigner } from '../core/token-keys.js';
import type { Auth } from '../http/guard.js';

/**
 * The `typ` of a forwarded identity token (RFC 8725 §3.11 explicit typing).
 * Gatehouse's access tokens are `at+jwt` and their verifier compares the whole
 * protected header byte for byte, so an identity token is never accepted as an
 * access token; an upstream that checks `typ` never accepts an access token.
 */
export const IDENTITY_TOKEN_TYPE = 'gatehouse-identity+jwt';

/** Where identity tokens get their key: the asymmetric keys the JWKS publishes (`SigningKeySet`). */
export interface IdentityKeys {
  signer(): TokenSigner;
}

/** Options of {@link IdentityTokens}. */
export interface IdentityTokenOptions {
  /** `iss`: Gatehouse's issuer, the same as its access tokens'. */
  readonly issuer: string;
  /** Lifetime of each token, at most 60 s. */
  readonly ttlSeconds: number;
  /** Most tokens kept for reuse; the oldest is dropped first. Default 10,000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly token: Promise<string>;
  /** `Bearer <token>`, made once per token rather than once per request. */
  readonly authorization: Promise<string>;
  /** The same once signed, so a cache hit needs no Promise at all. */
  signed: string | undefined;
  /** After this instant (ms) a fresh token is minted instead. */
  readonly reuseUntil: number;
  /** The key that signed it: a token from a key that no longer signs (rotated, deleted) is not reused. */
  readonly signer: TokenSigner;
}

/**
 * Mints the short-lived JWTs that tell an upstream who is calling: `iss`,
 * `aud` (the route's audience), `sub`, `sid`, `roles`, `preferred_username`,
 * `iat`, `exp` and `jti`, signed with the key that signs access tokens and
 * verifiable through `/.well-known/jwks.json`.
 *
 * A signature costs 20-90 µs, so tokens are reused: one per access token (and
 * so per session) and audience, until three quarters of its life has passed
 * or the signing key changes. The cache holds promises, so requests that
 * arrive together share one signature.
 *
 * @example
 * ```ts
 * const identities = new IdentityTokens(gatehouse.signingKeys, { issuer, ttlSeconds: 60 }, systemClock);
 * headers.authorization = `Bearer ${await identities.token(auth, 'orders-api')}`;
 * ```
 */
export class IdentityTokens {
  readonly #keys: IdentityKeys;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #ttlSeconds: number;
  readonly #reuseMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, Entry>();
  /** The protected header for each signer, built once. */
  readonly #headers = new WeakMap<TokenSigner, { alg: string; kid?: string; typ: string }>();

  constructor(keys: IdentityKeys, options: IdentityTokenOptions, clock: Clock) {
    if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds < 1 || options.ttlSeconds > 60) {
      throw new TypeError('ttlSeconds must be a whole number of seconds from 1 to 60.');
    }
    this.#keys = keys;
    this.#clock = clock;
    this.#issuer = options.issuer;
    this.#ttlSeconds = options.ttlSeconds;
    this.#reuseMs = Math.floor((options.ttlSeconds * 1000 * 3) / 4);
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** How many tokens are cached now (for tests and metrics). */
  get size(): number {
    return this.#cache.size;
  }

  /** A token for `auth` addressed to `audience`: a cached one while it is fresh enough, else a new one. */
  token(auth: Auth, audience: string): Promise<string> {
    return this.#entry(auth, audience).token;
  }

  /**
   * The same token as an `Authorization` header value, `Bearer <token>`: the
   * string itself when a signed token is cached (the usual case, no
   * microtask), else a Promise of it.
   */
  authorization(auth: Auth, audience: string): string | Promise<string> {
    const entry = this.#entry(auth, audience);
    return entry.signed ?? entry.authorization;
  }

  #entry(auth: Auth, audience: string): Entry {
    const key = `${auth.tokenId}\u0000${audience}`;
    const now = this.#clock.now();
    const signer = this.#keys.signer();
    const cached = this.#cache.get(key);
    if (cached !== undefined && now < cached.reuseUntil && cached.signer === signer) return cached;
    if (cached !== undefined) this.#cache.delete(key);
    const token = this.#mint(auth, audience, signer, now);
    const entry: Entry = { token, authorization: token.then((t) => (entry.signed = `Bearer ${t}`)), signed: undefined, reuseUntil: now + this.#reuseMs, signer };
    this.#evict(now);
    this.#cache.set(key, entry);
    // A failed signature must not stay cached (the caller still sees the rejection).
    entry.authorization.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return entry;
  }

  /**
   * Entries are inserted in time order with one lifetime, so the first entry
   * is always the stalest: dropping from the front while entries are stale (or
   * the cache is full) never needs a scan.
   */
  #evict(now: number): void {
    for (const [key, entry] of this.#cache) {
      if (entry.reuseUntil > now && this.#cache.size < this.#maxEntries) break;
      this.#cache.delete(key);
    }
  }

  async #mint(auth: Auth, audience: string, signer: TokenSigner, now: number): Promise<string> {
    let header = this.#headers.get(signer);
    if (header === undefined) {
      const { alg, kid } = signer.header;
      header = kid === undefined ? { alg, typ: IDENTITY_TOKEN_TYPE } : { alg, kid, typ: IDENTITY_TOKEN_TYPE };
      this.#headers.set(signer, header);
    }
    const iat = Math.floor(now / 1000);
    return new SignJWT({ sid: auth.sessionId, roles: auth.user.roles, preferred_username: auth.user.username })
      .setProtectedHeader(header)
      .setIssuer(this.#issuer)
      .setAudience(audience)
      .setSubject(auth.user.id)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.#ttlSeconds)
      .sign(await signer.key);
  }
}
