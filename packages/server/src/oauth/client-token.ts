/**
 * Machine clients' access tokens: JWTs of their own `typ`
 * (`gatehouse-client+jwt`) carrying the client as `sub` and `client_id`, its
 * scopes and an audience. A user's access token is `at+jwt` with a session;
 * this one has neither, and the guard admits it only on routes that ask for
 * scopes, so neither can pass for the other.
 *
 * With an asymmetric `signing.algorithm` they are signed by the same
 * published keys as user tokens (resource servers verify them through the
 * JWKS, telling them apart by `typ`); with HS256 by a key of their own
 * derived from the secret. The algorithm is pinned by the key, never read
 * from the token.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type CryptoKey } from 'jose';
import type { Clock } from '../core/clock.js';
import { pinnedHeader, type AccessTokenKeys, type TokenVerifier } from '../core/token-keys.js';

export const CLIENT_TOKEN_TYP = 'gatehouse-client+jwt';

export interface ClientTokenClaims {
  readonly iss: string;
  readonly aud: string;
  /** The client id. */
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly scopes: readonly string[];
  /** The key thumbprint a DPoP-bound token is bound to (RFC 9449 `cnf.jkt`), or null for a bearer token. */
  readonly jkt: string | null;
}

export type ClientTokenVerification =
  | { readonly ok: true; readonly claims: ClientTokenClaims }
  | { readonly ok: false; readonly code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' };

const INVALID: ClientTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_INVALID' });
const EXPIRED: ClientTokenVerification = Object.freeze({ ok: false, code: 'TOKEN_EXPIRED' });
const MAX_LENGTH = 4096;
const CACHE_ENTRIES = 10_000;

/** One signing key as this service uses it: the client-token header it pins and the key. */
interface ClientKey {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly key: CryptoKey | KeyObject | Promise<CryptoKey>;
  /** For asymmetric keys, the user-token verifier of the same key: asked whether the key is still trusted. */
  readonly verifier: TokenVerifier | null;
}

export interface ClientTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly clockToleranceSeconds: number;
}

/**
 * Issues and checks machine tokens. `check` answers from a cache of verified
 * tokens without a Promise (the guard's fast path); a token not seen yet is
 * verified with jose, once.
 */
export class ClientTokenService {
  readonly #keys: AccessTokenKeys | null;
  readonly #hmac: KeyObject | null;
  readonly #options: ClientTokenOptions;
  readonly #clock: Clock;
  readonly #verified = new Map<string, { token: string; verifier: TokenVerifier | null; ok: { ok: true; claims: ClientTokenClaims } }>();

  /** `keys`: the asymmetric signing keys (`SigningKeySet`), or null with HS256, when `hmacKey` signs. */
  constructor(keys: AccessTokenKeys | null, hmacKey: KeyObject, options: ClientTokenOptions, clock: Clock) {
    this.#keys = keys;
    this.#hmac = keys === null ? hmacKey : null;
    this.#options = Object.freeze({ ...options });
    this.#clock = clock;
  }

  /** The header a token of `alg`/`kid` must carry, byte for byte. */
  static encodedHeader(alg: string, kid: string | undefined): string {
    const header = kid === undefined ? { alg, typ: CLIENT_TOKEN_TYP } : { alg, kid, typ: CLIENT_TOKEN_TYP };
    return Buffer.from(JSON.stringify(header)).toString('base64url');
  }

  async issue(input: { clientId: string; scopes: readonly string[]; jkt?: string | null }): Promise<{ token: string; claims: ClientTokenClaims }> {
    const signing = this.#signingKey();
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: ClientTokenClaims = Object.freeze({
      iss: this.#options.issuer,
      aud: this.#options.audience,
      sub: input.clientId,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: iat + this.#options.ttlSeconds,
      scopes: Object.freeze([...input.scopes]),
      jkt: input.jkt ?? null,
    });
    const header = signing.kid === undefined ? { alg: signing.alg, typ: CLIENT_TOKEN_TYP } : { alg: signing.alg, kid: signing.kid, typ: CLIENT_TOKEN_TYP };
    const token = await new SignJWT({ client_id: input.clientId, scope: claims.scopes.join(' '), ...(claims.jkt === null ? {} : { cnf: { jkt: claims.jkt } }) })
      .setProtectedHeader(header)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp)
      .sign(await signing.key);
    return { token, claims };
  }

  /** Checks a token; never throws. Immediate for a token verified before, a Promise otherwise. */
  check(token: string): ClientTokenVerification | Promise<ClientTokenVerification> {
    if (typeof token !== 'string' || token.length > MAX_LENGTH) return INVALID;
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const known = this.#verified.get(signature);
    if (known !== undefined && known.token === token) {
      if (known.verifier !== null && this.#keys !== null && !this.#keys.trusts(known.verifier)) this.#verified.delete(signature);
      else if (known.ok.claims.exp > this.#clock.now() / 1000 - this.#options.clockToleranceSeconds) return known.ok;
      else {
        this.#verified.delete(signature);
        return EXPIRED;
      }
    }
    const key = this.#keyFor(token.slice(0, Math.max(0, token.indexOf('.'))));
    if (key === null) return INVALID;
    return this.#verify(token, signature, key);
  }

  /** The key whose client tokens carry exactly `encodedHeader`; the header is compared as text, never trusted for key material. */
  #keyFor(encodedHeader: string): ClientKey | null {
    if (this.#hmac !== null) return encodedHeader === ClientTokenService.encodedHeader('HS256', undefined) ? { alg: 'HS256', kid: undefined, key: this.#hmac, verifier: null } : null;
    let parsed: { alg?: unknown; kid?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    } catch {
      return null;
    }
    if (typeof parsed.alg !== 'string' || typeof parsed.kid !== 'string') return null;
    if (ClientTokenService.encodedHeader(parsed.alg, parsed.kid) !== encodedHeader) return null;
    // The same key, as the user tokens' verifier knows it (same alg and kid): so a key removed there is removed here.
    const verifier = this.#keys?.verifierFor(pinnedHeader(parsed.alg, parsed.kid).encoded);
    return verifier === undefined ? null : { alg: verifier.alg, kid: parsed.kid, key: verifier.key, verifier };
  }

  async #verify(token: string, signature: string, key: ClientKey): Promise<ClientTokenVerification> {
    const now = this.#clock.now();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await key.key, {
        algorithms: [key.alg],
        typ: CLIENT_TOKEN_TYP,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        currentDate: new Date(now),
        clockTolerance: this.#options.clockToleranceSeconds,
      }));
    } catch (error) {
      return (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? EXPIRED : INVALID;
    }
    const { sub, jti, iat, exp, scope, client_id: clientId, cnf } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || sub !== clientId || typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') return INVALID;
    if (exp - iat > this.#options.ttlSeconds + this.#options.clockToleranceSeconds || typeof scope !== 'string') return INVALID;
    // A confirmation that is not exactly a jkt is never read as "unbound": the token is refused.
    if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || Object.keys(cnf).length !== 1 || typeof (cnf as { jkt?: unknown }).jkt !== 'string')) return INVALID;
    const jkt = cnf === undefined ? null : (cnf as { jkt: string }).jkt;
    const claims: ClientTokenClaims = Object.freeze({
      iss: this.#options.issuer,
      aud: this.#options.audience,
      sub,
      jti,
      iat,
      exp,
      scopes: Object.freeze(scope.split(' ').filter((s) => s !== '')),
      jkt,
    });
    const ok = Object.freeze({ ok: true as const, claims });
    if (this.#verified.size >= CACHE_ENTRIES) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    this.#verified.set(signature, { token, verifier: key.verifier, ok });
    return ok;
  }

  #signingKey(): ClientKey {
    if (this.#hmac !== null) return { alg: 'HS256', kid: undefined, key: this.#hmac, verifier: null };
    const signer = (this.#keys as AccessTokenKeys).signer();
    return { alg: signer.header.alg, kid: signer.header.kid, key: signer.key, verifier: null };
  }
}
