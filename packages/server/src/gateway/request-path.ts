/**
 * The gateway's reading of a request target. Upstreams are a strict
 * allowlist, and the classic ways past an allowlist are paths that the
 * gateway reads one way and the upstream another: dot segments (`/api/../admin`),
 * encoded dots and slashes (`%2e%2e%2f`), double encoding (`%252e`), a
 * backslash, an empty segment, `;` parameters (`/admin;/`, `..;/` in Java
 * servers), encoded letters (`/%61dmin`), a trailing dot (`/admin.`, which
 * Windows servers drop). None of these is normalised here: a target holding
 * any of them is refused, so what the gateway matched is, byte for byte, what
 * the upstream receives.
 */

/** A target the gateway accepts: the path (undecoded, exactly as sent) and the query with its `?`, or `''`. */
export interface CheckedTarget {
  readonly path: string;
  readonly query: string;
}

// Characters allowed as they are in a path: RFC 3986 unreserved, the sub-delimiters except `;`, `:`, `@`, `/`, `%`
// (checked below), and `[ ] | ^`, which browsers send unencoded (the URL standard's path percent-encode set leaves them).
const PATH_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/%[]|^") PATH_CHAR[c.charCodeAt(0)] = 1;

/**
 * Bytes that may not appear percent-encoded in a path: letters, digits and the
 * other unreserved characters (a normaliser decodes them, so `/%61dmin` would
 * become `/admin` upstream), `/` and `\` (segment separators in disguise), `%`
 * (double encoding), `;` (path parameters), control characters, and 0xC0/0xC1
 * (only ever used for overlong encodings of `.` and `/`).
 */
const FORBIDDEN_ENCODED = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) FORBIDDEN_ENCODED[b] = 1;
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/\\%;') FORBIDDEN_ENCODED[c.charCodeAt(0)] = 1;
FORBIDDEN_ENCODED[0x7f] = 1;
FORBIDDEN_ENCODED[0xc0] = 1;
FORBIDDEN_ENCODED[0xc1] = 1;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Checks a raw request target (`req.url`). Returns null when it must be
 * refused: not origin-form (`/…`), a character outside the path alphabet
 * (`\`, space, quotes, `{ } <` `` ` ``, controls, non-ASCII: browsers encode these), a malformed or forbidden percent-escape,
 * an empty segment (`//`), a segment ending in `.` (`.`, `..`, `admin.`), or a
 * query with characters outside visible ASCII or a `#`.
 *
 * @example
 * ```ts
 * checkRequestTarget('/api/orders?limit=5'); // { path: '/api/orders', query: '?limit=5' }
 * checkRequestTarget('/api/%2e%2e/admin');   // null
 * ```
 */
export function checkRequestTarget(target: string): CheckedTarget | null {
  if (target.charCodeAt(0) !== 0x2f /* / */) return null;
  const queryAt = target.indexOf('?');
  const pathEnd = queryAt === -1 ? target.length : queryAt;
  let segmentStart = 1;
  for (let i = 1; i <= pathEnd; i++) {
    const code = i === pathEnd ? 0x2f : target.charCodeAt(i);
    if (code === 0x2f) {
      // An empty segment is allowed only as the very end (a trailing slash).
      if (i === segmentStart && i !== pathEnd) return null;
      if (i > segmentStart && target.charCodeAt(i - 1) === 0x2e /* . */) return null;
      segmentStart = i + 1;
      continue;
    }
    if (code >= 128 || PATH_CHAR[code] !== 1) return null;
    if (code === 0x25 /* % */) {
      const high = hexValue(target.charCodeAt(i + 1));
      const low = hexValue(target.charCodeAt(i + 2));
      if (high < 0 || low < 0 || i + 2 >= pathEnd || FORBIDDEN_ENCODED[high * 16 + low] === 1) return null;
      i += 2;
    }
  }
  for (let i = pathEnd + 1; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === 0x23 /* # */) return null;
  }
  return { path: target.slice(0, pathEnd), query: target.slice(pathEnd) };
}

/**
 * Whether `path` lies under `prefix` (a route prefix as validated by the
 * config: `/` or `/seg/seg` without a trailing slash), on a segment boundary
 * and ignoring ASCII case, so `/API/Admin` cannot dodge the stricter `/api/admin`
 * route on a case-insensitive upstream.
 */
export function pathUnderPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (path.length < prefix.length) return false;
  if (path.length > prefix.length && path.charCodeAt(prefix.length) !== 0x2f) return false;
  for (let i = 0; i < prefix.length; i++) {
    const a = path.charCodeAt(i);
    const b = prefix.charCodeAt(i);
    if (a !== b && (a | 0x20) !== (b | 0x20)) return false;
    // `|0x20` folds letters only when both are letters; anything else must match exactly.
    if (a !== b && !((a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a)) return false;
  }
  return true;
}
