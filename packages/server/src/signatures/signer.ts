/**
 * Signs outgoing requests with HTTP Message Signatures (RFC 9421) in the
 * shape Gatehouse's verifier requires: `@method`, `@target-uri`, and for a
 * body `content-digest` (RFC 9530) and `content-type`; `created`, `expires`,
 * a fresh random `nonce`, `keyid` and `alg`.
 */
import { randomBytes } from 'node:crypto';
import { serializeDictionary, type InnerList, type Parameters } from 'structured-headers';
import { systemClock, type Clock } from '../core/clock.js';
import type { ComponentIdentifier, RequestOrigin } from './components.js';
import { contentDigest, type DigestAlgorithm } from './content-digest.js';
import { signBase, type SignatureSigningKey } from './keys.js';
import { createSignatureBase } from './signature-base.js';

/** The request to sign. */
export interface RequestToSign {
  readonly method: string;
  /** The absolute URL the request is sent to, exactly as the HTTP client will send it. */
  readonly url: string | URL;
  /** Headers the request will carry; names are case-insensitive. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The exact bytes (or UTF-8 text) of the body, if any. */
  readonly body?: string | Uint8Array | null;
}

export interface SignRequestOptions {
  /** The key that signs; see `hmacSignatureKey` and `ed25519SigningKey`. */
  readonly key: SignatureSigningKey;
  /** How long the signature stays valid. Default 60 s; the verifier's clock-skew window still applies. */
  readonly expiresInSeconds?: number;
  /** Further headers to cover (lower case), beyond the method, target, and the body's digest and type. */
  readonly components?: readonly string[];
  /** The signature label. Default `sig1`. */
  readonly label?: string;
  /** Default: 16 random bytes, base64url. Never reuse one: the verifier accepts each nonce once. */
  readonly nonce?: string;
  /** Digest of the body. Default `sha-256`. */
  readonly digestAlgorithm?: DigestAlgorithm;
  readonly clock?: Clock;
}

/**
 * The headers to add to the request: `signature-input`, `signature`, and
 * `content-digest` when it has a body. A type alias, not an interface, so that
 * it can be passed where a `Record<string, string>` is expected (`fetch`'s
 * `headers`, an HTTP client's options).
 */
export type SignatureHeaders = {
  readonly 'signature-input': string;
  readonly signature: string;
  readonly 'content-digest'?: string;
};

/**
 * Signs a request and returns the headers to send with it. Send the body
 * bytes exactly as given: the digest covers them.
 *
 * @example
 * ```ts
 * import { hmacSignatureKey, signRequest } from '@gatehouse/server';
 *
 * const key = hmacSignatureKey('partner-a', process.env.PARTNER_A_SECRET ?? '');
 * const body = JSON.stringify({ amount: 5 });
 * const headers = { 'content-type': 'application/json' };
 * const signature = signRequest({ method: 'POST', url: 'https://api.example.com/orders', headers, body }, { key });
 * await fetch('https://api.example.com/orders', { method: 'POST', headers: { ...headers, ...signature }, body });
 * ```
 */
export function signRequest(request: RequestToSign, options: SignRequestOptions): SignatureHeaders {
  const url = new URL(request.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('url: an http: or https: URL');
  const headers = new Map<string, string>(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const body = request.body ?? null;
  const hasBody = body !== null && (typeof body === 'string' ? body.length > 0 : body.byteLength > 0);

  const covered = ['@method', '@target-uri'];
  let digest: string | undefined;
  if (hasBody) {
    digest = contentDigest(body, options.digestAlgorithm ?? 'sha-256');
    headers.set('content-digest', digest);
    covered.push('content-digest');
    if (headers.has('content-type')) covered.push('content-type');
  }
  for (const name of options.components ?? []) {
    const lower = name.toLowerCase();
    if (!covered.includes(lower)) covered.push(lower);
  }

  const now = Math.floor((options.clock ?? systemClock).now() / 1000);
  const parameters: Parameters = new Map<string, string | number>([
    ['created', now],
    ['expires', now + (options.expiresInSeconds ?? 60)],
    ['nonce', options.nonce ?? randomBytes(16).toString('base64url')],
    ['keyid', options.key.keyid],
    ['alg', options.key.alg],
  ]);
  const components: ComponentIdentifier[] = covered.map((name) => ({ name, parameters: new Map() }));
  const origin: RequestOrigin = { scheme: url.protocol.slice(0, -1), authority: url.host };
  const base = createSignatureBase(
    { method: request.method, target: requestTarget(url), headers: { get: (name) => headers.get(name) ?? null } },
    origin,
    components,
    parameters,
  );
  const label = options.label ?? 'sig1';
  const input: InnerList = [components.map((c) => [c.name, c.parameters]), parameters];
  return {
    'signature-input': serializeDictionary({ [label]: input }),
    signature: serializeDictionary({ [label]: signBase(options.key, base) }),
    ...(digest === undefined ? {} : { 'content-digest': digest }),
  };
}

/** The origin-form target an HTTP client sends for `url`: path and query as serialized, `?` of an empty query kept. */
function requestTarget(url: URL): string {
  const withoutFragment = new URL(url);
  withoutFragment.hash = '';
  return withoutFragment.href.slice(withoutFragment.origin.length);
}
