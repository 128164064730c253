/**
 * The DPoP proof verifier (RFC 9449 §4.3): one proof, for one request, judged
 * against this server's rules. The signature is checked by jose with the key
 * the proof carries in its `jwk` header, after Gatehouse has made sure that
 * key is public and of an allowed asymmetric algorithm; `jti` is consumed
 * once across every instance, last, so that only proofs valid in every other
 * respect are ever recorded.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';
import type { DPoPConfig } from '../config/dpop-schema.js';
import type { Clock } from '../core/clock.js';
import type { ConsumeOnce } from '../core/consume-once.js';
import { GatehouseError, type ErrorCode } from '../core/errors.js';
import { htuMatches, pathOfTarget } from './htu.js';
import type { DPoPNonces } from './nonces.js';

/** Longest proof looked at: an RSA-4096 `jwk` and every claim fit well inside. */
export const DPOP_PROOF_MAX_LENGTH = 8192;

/** Three base64url segments; an empty signature still gets as far as the `alg` check, which names the refusal. */
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Members that only a private (or symmetric) JWK has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** How many proof headers (a client's key, as its proofs carry it) are remembered once checked and imported. */
const KEY_CACHE_ENTRIES = 1000;

/** A proof header that passed every header check: its `alg`, its key imported, the key's thumbprint. */
interface CheckedHeader {
  readonly alg: string;
  readonly key: Awaited<ReturnType<typeof importJWK>>;
  readonly jkt: string;
}

/** The key types each accepted `alg` needs. */
const KEY_TYPE: Readonly<Record<string, string>> = { ES256: 'EC', EdDSA: 'OKP', Ed25519: 'OKP', PS256: 'RSA', RS256: 'RSA' };

/** The request a proof is judged against. */
export interface DPoPRequest {
  /** The HTTP method, as received. */
  readonly method: string;
  /** The request target (`/path?query`) or absolute URL; only its path is compared, with a configured origin. */
  readonly target: string;
  /** The `DPoP` header as received (several headers joined with `, `), or null. */
  readonly proof: string | null;
}

/** What a proof must match beyond its request. */
export interface DPoPExpectations {
  /** On a resource request: the access token whose SHA-256 the proof's `ath` must be. */
  readonly accessToken?: string;
  /** The thumbprint the access token is bound to (`cnf.jkt`): the proof's key must be that key. */
  readonly jkt?: string;
  /** The origins `htu` may name, where they are not `dpop.origins` (the token endpoint: Gatehouse's own public origin). */
  readonly origins?: readonly string[];
}

/** A proof that passed every check. */
export interface VerifiedDPoPProof {
  /** The JWK SHA-256 thumbprint (RFC 7638) of the proof's key: what a token is bound to as `cnf.jkt`. */
  readonly jkt: string;
  readonly jti: string;
  /** Seconds since the epoch, as the proof says. */
  readonly iat: number;
}

export interface DPoPVerifierOptions {
  readonly config: DPoPConfig;
  readonly consumeOnce: ConsumeOnce;
  readonly nonces: DPoPNonces;
  readonly clock: Clock;
}

function refuse(code: ErrorCode, headers?: Record<string, string>): never {
  throw new GatehouseError(code, headers === undefined ? {} : { headers });
}

/** base64url(SHA-256(token)): the `ath` of a proof sent with `token` (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/**
 * Verifies DPoP proofs. Every refusal is a `GatehouseError` with one code per
 * cause (`DPOP_…`, 401); a replay check that cannot be made is 503
 * `REPLAY_CHECK_UNAVAILABLE` (fail closed). Callers shape refusals for their
 * place with `resourceRefusal` or `tokenEndpointRefusal`.
 *
 * @example
 * ```ts
 * const proof = await verifier.verify({ method: 'GET', target: '/api/orders', proof: headers.get('dpop') }, { accessToken, jkt: claims.cnf.jkt });
 * ```
 */
export class DPoPProofVerifier {
  readonly #config: DPoPConfig;
  readonly #once: ConsumeOnce;
  readonly #nonces: DPoPNonces;
  readonly #clock: Clock;
  /**
   * Checked headers by their exact encoded text. A client signs every proof
   * with the same key, so its proofs share one header byte for byte; importing
   * the key and hashing its thumbprint once instead of per request halves the
   * CPU a proof costs (importJWK and the thumbprint measured about 150 of
   * 350 µs). Only headers that passed every check are kept, at most
   * KEY_CACHE_ENTRIES, the oldest forgotten first. Public keys only.
   */
  readonly #headers = new Map<string, CheckedHeader>();

  constructor(options: DPoPVerifierOptions) {
    this.#config = options.config;
    this.#once = options.consumeOnce;
    this.#nonces = options.nonces;
    this.#clock = options.clock;
  }

  /** The algorithms a proof may use, for `WWW-Authenticate: DPoP algs="…"` and server metadata. */
  get algorithms(): readonly string[] {
    return this.#config.algorithms;
  }

  /** The current server nonce, for a `DPoP-Nonce` header. */
  nonce(): string {
    return this.#nonces.current();
  }

  async verify(request: DPoPRequest, expect: DPoPExpectations = {}): Promise<VerifiedDPoPProof> {
    const { proof } = request;
    if (proof === null || proof === '') refuse('DPOP_PROOF_MISSING');
    // Two DPoP headers arrive joined with ", "; a compact JWS has no comma, so that is refused here too.
    if (proof.length > DPOP_PROOF_MAX_LENGTH || !SHAPE.test(proof)) refuse('DPOP_PROOF_MALFORMED');

    const encodedHeader = proof.slice(0, proof.indexOf('.'));
    const { alg, key, jkt } = this.#headers.get(encodedHeader) ?? (await this.#checkHeader(proof, encodedHeader));

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(proof, key, { algorithms: [alg], typ: 'dpop+jwt', currentDate: new Date(this.#clock.now()) }));
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) refuse('DPOP_SIGNATURE_INVALID');
      if (error instanceof joseErrors.JWTExpired) refuse('DPOP_PROOF_EXPIRED');
      // jose refuses keys too weak for their alg (RSA under 2048 bits) with a TypeError.
      if (error instanceof TypeError) refuse('DPOP_KEY_INVALID');
      refuse('DPOP_PROOF_MALFORMED');
    }

    const { jti, htm, htu, iat, ath, nonce } = payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > 256 || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat)) {
      refuse('DPOP_PROOF_MALFORMED');
    }
    if (htm !== request.method) refuse('DPOP_METHOD_MISMATCH');
    const path = pathOfTarget(request.target);
    if (path === undefined || !htuMatches(htu, expect.origins ?? this.#config.origins, path)) refuse('DPOP_URL_MISMATCH');
    const now = this.#clock.now() / 1000;
    const window = this.#config.proofWindowSeconds;
    if (iat < now - window || iat > now + window) refuse('DPOP_PROOF_EXPIRED');
    if (this.#config.requireNonce && !this.#nonces.accepts(nonce)) refuse('DPOP_NONCE_REQUIRED', { 'dpop-nonce': this.#nonces.current() });
    if (expect.accessToken !== undefined && ath !== accessTokenHash(expect.accessToken)) refuse('DPOP_ATH_MISMATCH');
    if (expect.jkt !== undefined && jkt !== expect.jkt) refuse('DPOP_KEY_MISMATCH');

    // Last: only a proof that is right in every other way is recorded. Kept until it is too old anyway.
    const keptUntil = Math.ceil((iat + window) * 1000) + 1000;
    if (!(await this.#once.consume('dpop-proof', `${jkt}:${jti}`, keptUntil))) refuse('DPOP_PROOF_REPLAYED');
    return { jkt, jti, iat };
  }

  /** Checks a header not seen before (`typ`, `alg`, a public `jwk`), imports its key and remembers it. */
  async #checkHeader(proof: string, encodedHeader: string): Promise<CheckedHeader> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      refuse('DPOP_PROOF_MALFORMED');
    }
    if (header.typ !== 'dpop+jwt') refuse('DPOP_PROOF_MALFORMED');
    const { alg, jwk } = header;
    // The allowlist holds asymmetric algorithms only: `none`, HS256 and anything unknown stop here.
    if (typeof alg !== 'string' || !(this.#config.algorithms as readonly string[]).includes(alg)) refuse('DPOP_ALGORITHM_REFUSED');
    const publicJwk = this.#publicJwk(jwk, alg);
    let key: CheckedHeader['key'];
    try {
      key = await importJWK(publicJwk, alg);
    } catch {
      refuse('DPOP_KEY_INVALID');
    }
    const checked: CheckedHeader = Object.freeze({ alg, key, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') });
    if (this.#headers.size >= KEY_CACHE_ENTRIES) {
      const oldest = this.#headers.keys().next().value;
      if (oldest !== undefined) this.#headers.delete(oldest);
    }
    this.#headers.set(encodedHeader, checked);
    return checked;
  }

  /** The `jwk` header as a public JWK of the key type `alg` needs, or a refusal. */
  #publicJwk(jwk: unknown, alg: string): JWK {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) refuse('DPOP_KEY_INVALID');
    const candidate = jwk as Record<string, unknown>;
    // A private key in a header is a leaked key: never accepted, whatever jose would make of it.
    if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(candidate, member))) refuse('DPOP_KEY_INVALID');
    if (candidate.kty !== KEY_TYPE[alg]) refuse('DPOP_KEY_INVALID');
    if (candidate.alg !== undefined && candidate.alg !== alg) refuse('DPOP_KEY_INVALID');
    if (candidate.use !== undefined && candidate.use !== 'sig') refuse('DPOP_KEY_INVALID');
    return candidate as JWK;
  }
}
