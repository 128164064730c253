/** The cookie and header names Gatehouse uses by default; the same as Angular's and axios's. */
export const DEFAULT_XSRF_COOKIE = 'XSRF-TOKEN';
export const DEFAULT_XSRF_HEADER = 'X-XSRF-TOKEN';

/**
 * The value of the XSRF cookie in a `document.cookie` string, or undefined.
 *
 * @example
 * ```ts
 * const token = readXSRFToken(document.cookie);
 * ```
 */
export function readXSRFToken(cookieString: string, cookieName: string = DEFAULT_XSRF_COOKIE): string | undefined {
  for (const part of cookieString.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === cookieName) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Whether a request should carry the XSRF header: an unsafe method to the
 * page's own origin. Never to another origin, where the token would leak.
 */
export function needsXSRFHeader(method: string, url: string | URL, pageOrigin: string): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  let target: URL;
  try {
    target = new URL(url, pageOrigin);
  } catch {
    return false;
  }
  return target.origin === pageOrigin;
}
