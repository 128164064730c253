/**
 * Verifies HTTP Message Signatures (RFC 9421) on incoming requests, as
 * Gatehouse profiles them: the request must cover its method and target
 * (`@method` with `@target-uri`, or with `@authority`, `@path` and `@query`),
 * and its body through `Content-Digest` (RFC 9530); the signature must carry
 * `created`, `expires`, `nonce` and `keyid`, be inside the clock-skew window, and its
 * nonce must never have been seen before on any instance.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { GatehouseError, type ErrorCode } from '../core/errors.js';
import { ComponentError, type ComponentIdentifier, type RequestOrigin, type SignatureRequestView } from './components.js';
import { ContentDigestCheck } from './content-digest.js';
import { verifyBase, type SignatureAlgorithm, type SignatureVerificationKey } from './keys.js';
import type { ConsumeOnce } from '../core/consume-once.js';
import { createSignatureBase, readSignatureEntry, SignatureHeaderError, type SignatureEntry } from './signature-base.js';

/**
 * Gatehouse's one "consume once" primitive (`gatehouse.consumeOnce`; see
 * core/consume-once.ts): every instance that verifies must share it (the
 * store, or Redis `SET NX PX`); when it cannot record, the request fails closed.
 */
export type { ConsumeOnce } from '../core/consume-once.js';

/** Finds the key for a `keyid`, or null when there is none. */
export type SignatureKeyLookup = (keyid: string) => SignatureVerificationKey | null | Promise<SignatureVerificationKey | null>;

export interface SignatureVerifierOptions {
  /** The keys that may sign, or a function that finds one by `keyid`. */
  readonly keys: readonly SignatureVerificationKey[] | SignatureKeyLookup;
  /**
   * The origins this API is reached at (`https://api.example.com`), as the
   * callers sign for them. `@authority`, `@scheme` and `@target-uri` are built
   * from the configured origin, never from what the request claims, so a
   * request signed for another service that shares a key does not verify
   * here. With several origins, `Host` chooses among them (and must name one).
   */
  readonly origins: readonly string[];
  /** Where nonces are remembered; see {@link ConsumeOnce}. */
  readonly consumeOnce: ConsumeOnce;
  /** How far `created` may be from this server's clock, either way. Default 300 (5 minutes). */
  readonly clockSkewSeconds?: number;
  readonly clock?: Clock;
  /** The signature label to verify (`sig1`). Default: the request must carry exactly one signature. */
  readonly label?: string;
  /** Components every signature must also cover, beyond the built-in minimum (`content-type`, `authorization`, …). */
  readonly requiredComponents?: readonly string[];
}

/** What a verified signature says about the request. */
export interface VerifiedSignature {
  /** The key that signed, identifying the calling client. */
  readonly keyid: string;
  readonly alg: SignatureAlgorithm;
  readonly label: string;
  readonly nonce: string;
  /** `created`, in ms since the epoch. */
  readonly createdAt: number;
  /** `expires` in ms since the epoch (every accepted signature sets it). */
  readonly expiresAt: number;
  /** The names of the covered components, in order (`@method`, `@target-uri`, `content-digest`, …). */
  readonly covered: readonly string[];
}

/** A verified signature plus what checking the body still needs. */
export interface PendingBodyCheck {
  readonly signature: VerifiedSignature;
  /** The `Content-Digest` to check the body against, or null when the signature does not cover one. */
  readonly digest: ContentDigestCheck | null;
}

/** The consume-once kind of signature nonces. */
export const NONCE_KIND = 'signature-nonce';
const DEFAULT_CLOCK_SKEW_SECONDS = 300;
/** Nonces shorter than this cannot be random enough to be unique; longer ones only cost storage. */
const NONCE_LENGTH = { min: 16, max: 256 };

function fail(code: ErrorCode, message?: string): GatehouseError {
  return new GatehouseError(code, message === undefined ? {} : { message });
}

function parseOrigin(origin: string): RequestOrigin {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`origins: ${JSON.stringify(origin)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`origins: ${origin} is not http(s)`);
  return { scheme: url.protocol.slice(0, -1), authority: url.host };
}

/** The authority the request's `Host` names, normalised as `URL.host` would (lower case, default port dropped). */
function hostAuthority(host: string | null, scheme: string): string | null {
  if (host === null || host === '' || /[\s/?#@\\]/.test(host)) return null;
  try {
    return new URL(`${scheme}://${host}`).host;
  } catch {
    return null;
  }
}

function covers(components: readonly ComponentIdentifier[], name: string): boolean {
  return components.some((c) => c.name === name && c.parameters.size === 0);
}

/**
 * Verifies signed requests. Build one at start-up and share it; it holds no
 * per-request state.
 *
 * @example
 * ```ts
 * const verifier = new SignatureVerifier({
 *   keys: [hmacSignatureKey('partner-a', process.env.PARTNER_A_SECRET ?? '')],
 *   origins: ['https://api.example.com'],
 *   consumeOnce: gatehouse.consumeOnce,
 * });
 * ```
 */
export class SignatureVerifier {
  readonly #lookup: SignatureKeyLookup;
  readonly #origins: readonly RequestOrigin[];
  readonly #consumeOnce: ConsumeOnce;
  readonly #clock: Clock;
  readonly #skewMs: number;
  readonly #label: string | undefined;
  readonly #required: readonly string[];

  constructor(options: SignatureVerifierOptions) {
    const { keys } = options;
    if (typeof keys === 'function') {
      this.#lookup = keys;
    } else {
      const byId = new Map(keys.map((key) => [key.keyid, key]));
      if (byId.size !== keys.length) throw new TypeError('keys: two keys share a keyid');
      this.#lookup = (keyid) => byId.get(keyid) ?? null;
    }
    if (options.origins.length === 0) throw new TypeError('origins: name at least one origin this API is reached at');
    this.#origins = options.origins.map(parseOrigin);
    this.#consumeOnce = options.consumeOnce;
    this.#clock = options.clock ?? systemClock;
    const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    if (!Number.isInteger(skew) || skew < 1 || skew > 3600) throw new TypeError('clockSkewSeconds: an integer from 1 to 3600');
    this.#skewMs = skew * 1000;
    this.#label = options.label;
    this.#required = [...(options.requiredComponents ?? [])];
  }

  /**
   * Verifies everything but the body: headers, key, time window, signature
   * and nonce (consumed only once the signature verified, so nobody can burn
   * another client's nonces). Throws a 401 `GatehouseError` with the cause's
   * code. `bodyExpected` is whether the request announces content
   * (`Content-Length` above 0 or `Transfer-Encoding`); bytes that arrive
   * anyway are caught by {@link readVerifiedBody}.
   */
  async verify(request: SignatureRequestView, options: { readonly bodyExpected: boolean }): Promise<PendingBodyCheck> {
    let entry: SignatureEntry;
    try {
      entry = readSignatureEntry(request.headers.get('signature-input'), request.headers.get('signature'), this.#label);
    } catch (error) {
      if (error instanceof SignatureHeaderError) throw fail(error.kind === 'missing' ? 'SIGNATURE_MISSING' : 'SIGNATURE_MALFORMED');
      throw error;
    }
    const { parameters, components } = entry;
    const created = parameters.get('created');
    const expires = parameters.get('expires');
    const nonce = parameters.get('nonce');
    const keyid = parameters.get('keyid');
    const alg = parameters.get('alg');

    // What the profile requires, checked before any key is looked up.
    for (const [name, value] of [['created', created], ['expires', expires], ['nonce', nonce], ['keyid', keyid]] as const) {
      if (value === undefined) throw fail('SIGNATURE_COMPONENT_MISSING', `The signature has no ${name} parameter.`);
    }
    if (typeof created !== 'number' || !Number.isInteger(created)) throw fail('SIGNATURE_MALFORMED', 'created must be an integer.');
    if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < created) {
      throw fail('SIGNATURE_MALFORMED', 'expires must be an integer not before created.');
    }
    if (typeof nonce !== 'string' || nonce.length < NONCE_LENGTH.min || nonce.length > NONCE_LENGTH.max) {
      throw fail('SIGNATURE_MALFORMED', `nonce must be a string of ${NONCE_LENGTH.min} to ${NONCE_LENGTH.max} characters.`);
    }
    if (typeof keyid !== 'string') throw fail('SIGNATURE_MALFORMED', 'keyid must be a string.');
    if (alg !== undefined && typeof alg !== 'string') throw fail('SIGNATURE_MALFORMED', 'alg must be a string.');
    if (!covers(components, '@method')) throw fail('SIGNATURE_COMPONENT_MISSING', 'The signature does not cover @method.');
    if (!covers(components, '@target-uri') && !(covers(components, '@authority') && covers(components, '@path') && covers(components, '@query'))) {
      throw fail('SIGNATURE_COMPONENT_MISSING', 'The signature does not cover @target-uri (or @authority, @path and @query).');
    }
    const digestCovered = covers(components, 'content-digest');
    if (options.bodyExpected && !digestCovered) throw fail('SIGNATURE_COMPONENT_MISSING', 'The signature does not cover content-digest.');
    for (const name of this.#required) {
      if (!covers(components, name)) throw fail('SIGNATURE_COMPONENT_MISSING', `The signature does not cover ${name}.`);
    }

    const now = this.#clock.now();
    const createdAt = created * 1000;
    const expiresAt = expires * 1000;
    if (createdAt > now + this.#skewMs || createdAt < now - this.#skewMs || now > expiresAt + this.#skewMs) {
      throw fail('SIGNATURE_EXPIRED');
    }

    const key = await this.#lookup(keyid);
    if (key === null) throw fail('SIGNATURE_KEY_UNKNOWN');
    // RFC 9421 §3.2 step 6: the key decides the algorithm; a differing alg is refused, never followed.
    if (alg !== undefined && alg !== key.alg) throw fail('SIGNATURE_ALGORITHM_MISMATCH');

    const origin = this.#originOf(request);
    let base: string;
    try {
      base = createSignatureBase(request, origin, components, parameters);
    } catch (error) {
      if (error instanceof ComponentError) {
        throw fail(error.kind === 'absent' ? 'SIGNATURE_INVALID' : 'SIGNATURE_MALFORMED', `The signature cannot be checked: ${error.message}.`);
      }
      throw error;
    }
    if (!verifyBase(key, base, entry.signature)) throw fail('SIGNATURE_INVALID');

    let digest: ContentDigestCheck | null = null;
    if (digestCovered) {
      // The header is covered and present (the base was built), so it only has to be usable.
      digest = ContentDigestCheck.parse(request.headers.get('content-digest') ?? '');
      if (digest === null) throw fail('SIGNATURE_DIGEST_MISMATCH', 'Content-Digest has no valid sha-256 or sha-512 digest.');
    }

    // Kept while a signature with this `created` could still be accepted, and no longer.
    const keepUntil = createdAt + this.#skewMs + 1000;
    // Scoped to the key, so one client cannot burn another's nonces.
    if (!(await this.#consumeOnce.consume(NONCE_KIND, JSON.stringify([keyid, nonce]), keepUntil))) throw fail('SIGNATURE_REPLAYED');

    return {
      signature: { keyid, alg: key.alg, label: entry.label, nonce, createdAt, expiresAt, covered: components.map((c) => c.name) },
      digest,
    };
  }

  /**
   * Scheme and authority from the configured origins. With one origin, that
   * one, whatever `Host` says (a proxy may rewrite it; the signature must
   * cover this origin through `@target-uri` or `@authority` anyway). With
   * several, the one `Host` names; any other host is refused.
   */
  #originOf(request: SignatureRequestView): RequestOrigin {
    const [only] = this.#origins;
    if (this.#origins.length === 1 && only !== undefined) return only;
    const host = request.headers.get('host');
    for (const origin of this.#origins) {
      if (hostAuthority(host, origin.scheme) === origin.authority) return origin;
    }
    throw fail('SIGNATURE_INVALID', 'The request was not sent to an origin this server verifies signatures for.');
  }
}

