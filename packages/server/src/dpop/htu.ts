/**
 * The `htu` rule of RFC 9449 §4.3: a proof names the URL of the request it
 * was made for, without query and fragment, and the two are compared after
 * the normalisation of RFC 3986 §6.2.2 and §6.2.3 (case of scheme and host,
 * default ports, case of percent-escapes, escaped unreserved characters).
 * The request's own URL is never taken from its `Host` header: its origin
 * must be one of the configured `dpop.origins`, its path the request's path.
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** A path with every `%xy` in upper case and escaped unreserved characters decoded (RFC 3986 §6.2.2.1, §6.2.2.2). */
export function normalisePath(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The path of a request target (`/a/b?c`, or an absolute URL as a Web `Request` has it), without its query. */
export function pathOfTarget(target: string): string | undefined {
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end === -1 ? target : target.slice(0, end);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

/**
 * True when `htu` names one of `origins` and the path `requestPath`. The
 * URL parser lower-cases scheme and host and drops a default port; query and
 * fragment of `htu` are ignored, as the RFC says.
 */
export function htuMatches(htu: string, origins: readonly string[], requestPath: string): boolean {
  let url: URL;
  try {
    url = new URL(htu);
  } catch {
    return false;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return false;
  if (!origins.includes(url.origin)) return false;
  return normalisePath(url.pathname) === normalisePath(requestPath);
}
