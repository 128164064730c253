import type { IncomingHttpHeaders } from 'node:http';

/**
 * What crosses the gateway in headers, each way. Requests: the browser's
 * credentials (cookies, `Authorization`, the CSRF header) never reach an
 * upstream; hop-by-hop headers end here; every header that claims where the
 * request came from (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`,
 * `X-Original-URI`…) is dropped and the gateway writes its own, so an
 * upstream can believe them. Responses: hop-by-hop headers end here and only
 * the route's own cookies may be set.
 */

/** RFC 9110 §7.6.1 connection-specific fields, and the proxy-only ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the gateway never forwards (hop-by-hop aside). */
const DROPPED_REQUEST = new Set([
  'host',
  'cookie',
  'authorization',
  // A DPoP proof (RFC 9449) is spent here, with the token it came with: the upstream gets the identity instead.
  'dpop',
  // undici does not do 100-continue over HTTP/1.1; Node already answered the client's.
  'expect',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/** Name prefixes of claims about the request's origin or identity: only the gateway writes these. */
const DROPPED_PREFIXES = ['x-forwarded-', 'x-original-', 'x-gatehouse-'];

/** Headers the gateway itself writes on every forwarded request. */
export interface ForwardedFacts {
  /** The client's address, as resolved with `trustProxy`. */
  readonly clientIP: string;
  /** From `publicOrigin`: `http` or `https`. */
  readonly proto: string;
  /** From `publicOrigin`: host and port as the browser sees them. */
  readonly host: string;
  /** The stripped prefix, when the route strips it. */
  readonly prefix: string | undefined;
  /** `Bearer …` for the upstream, or undefined for none. */
  readonly authorization: string | undefined;
}

/** Names listed in a `Connection` header: hop-by-hop by declaration. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // Nearly every message says just `keep-alive` or `close`, which name no other header: no Set for those.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return undefined;
  const tokens = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '') tokens.add(token);
  }
  return tokens;
}

function isDroppedRequestHeader(name: string, csrfHeaderName: string, declared: Set<string> | undefined): boolean {
  if (HOP_BY_HOP.has(name) || DROPPED_REQUEST.has(name) || name === csrfHeaderName) return true;
  if (declared?.has(name) === true) return true;
  for (const prefix of DROPPED_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** The `Cookie` header holding only `allowed` cookies, or undefined. */
function allowedCookies(header: string | undefined, allowed: readonly string[]): string | undefined {
  if (header === undefined || allowed.length === 0) return undefined;
  const kept = header.split(';').filter((pair) => {
    const eq = pair.indexOf('=');
    return eq > 0 && allowed.includes(pair.slice(0, eq).trim());
  });
  return kept.length === 0 ? undefined : kept.map((p) => p.trim()).join('; ');
}

/**
 * The headers for the upstream request, as undici's flat `[name, value, …]`
 * list, built from the raw headers in one pass (repeated headers stay
 * repeated, in order).
 */
export function upstreamRequestHeaders(
  rawHeaders: readonly string[],
  headers: IncomingHttpHeaders,
  options: { readonly csrfHeaderName: string; readonly cookies: readonly string[] },
  facts: ForwardedFacts,
): string[] {
  const declared = connectionTokens(headers.connection);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!isDroppedRequestHeader(name, options.csrfHeaderName, declared)) out.push(name, rawHeaders[i + 1] as string);
  }
  const cookie = allowedCookies(headers.cookie, options.cookies);
  if (cookie !== undefined) out.push('cookie', cookie);
  out.push('x-forwarded-for', facts.clientIP, 'x-forwarded-proto', facts.proto, 'x-forwarded-host', facts.host);
  if (facts.prefix !== undefined) out.push('x-forwarded-prefix', facts.prefix);
  if (facts.authorization !== undefined) out.push('authorization', facts.authorization);
  return out;
}

/** The cookie name a `Set-Cookie` value sets. */
function setCookieName(value: string): string {
  const eq = value.indexOf('=');
  return eq <= 0 ? '' : value.slice(0, eq).trim();
}

/**
 * The upstream's response headers as the browser gets them: hop-by-hop
 * headers removed, `Set-Cookie` kept only for the route's `cookies`, so an
 * upstream can neither set nor clear a Gatehouse cookie. `ownCookies` are the
 * gateway's own (a refreshed or cleared session) and always go first.
 */
export function clientResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  cookies: readonly string[],
  ownCookies: readonly string[] = [],
): Record<string, string | string[]> {
  const declared = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  if (ownCookies.length > 0) out['set-cookie'] = [...ownCookies];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || declared?.has(name) === true) continue;
    if (name === 'set-cookie') {
      const kept = (Array.isArray(value) ? value : [value]).filter((v) => cookies.includes(setCookieName(v)));
      if (kept.length > 0) out[name] = [...ownCookies, ...kept];
      continue;
    }
    out[name] = value;
  }
  return out;
}
