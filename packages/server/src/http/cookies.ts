/**
 * Cookie reading and writing. Reading scans the header once with indexOf and
 * allocates only the value asked for: this runs on every guarded request.
 */

/**
 * The value of the cookie called `name` in a `Cookie` header, or undefined
 * when it is absent or present more than once. Values are returned as sent (Gatehouse's own values are
 * base64url and need no decoding).
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  const length = header.length;
  while (start < length) {
    // Skip the separator and optional whitespace before a pair.
    while (start < length && (header.charCodeAt(start) === 0x20 || header.charCodeAt(start) === 0x3b)) start++;
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && eq - start === name.length && header.startsWith(name, start)) {
      let valueStart = eq + 1;
      let valueEnd = end;
      while (valueEnd > valueStart && header.charCodeAt(valueEnd - 1) === 0x20) valueEnd--;
      // RFC 6265 allows a value in double quotes.
      if (valueEnd - valueStart >= 2 && header.charCodeAt(valueStart) === 0x22 && header.charCodeAt(valueEnd - 1) === 0x22) {
        valueStart++;
        valueEnd--;
      }
      // A second cookie of the same name means someone else (a sibling
      // subdomain, "cookie tossing") planted one: we cannot tell which is
      // ours, so neither is believed.
      return hasCookieAfter(header, name, end) ? undefined : header.slice(valueStart, valueEnd);
    }
    start = end + 1;
  }
  return undefined;
}

function hasCookieAfter(header: string, name: string, from: number): boolean {
  let at = header.indexOf(`${name}=`, from);
  while (at !== -1) {
    // Only a match at the start of a pair counts ("XXSRF-TOKEN=" is another cookie).
    let before = at - 1;
    while (before >= 0 && header.charCodeAt(before) === 0x20) before--;
    if (before < 0 || header.charCodeAt(before) === 0x3b) return true;
    at = header.indexOf(`${name}=`, at + 1);
  }
  return false;
}

export interface CookieAttributes {
  readonly path: string;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax';
  /** Omit for a cookie that lives as long as the browser session. 0 deletes. */
  readonly maxAgeSeconds?: number;
}

/** A `Set-Cookie` value. Never sets `Domain`: host-only cookies cannot be read or tossed by sibling subdomains. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  let cookie = `${name}=${value}; Path=${attributes.path}`;
  if (attributes.maxAgeSeconds !== undefined) {
    cookie += `; Max-Age=${Math.max(0, Math.floor(attributes.maxAgeSeconds))}`;
    if (attributes.maxAgeSeconds <= 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  if (attributes.httpOnly) cookie += '; HttpOnly';
  if (attributes.secure) cookie += '; Secure';
  cookie += `; SameSite=${attributes.sameSite}`;
  return cookie;
}
