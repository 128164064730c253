/**
 * Where a request claims to come from, judged the way the OWASP CSRF cheat
 * sheet recommends: Fetch Metadata first, then Origin, then Referer. A
 * request with neither Origin nor Referer is refused: every browser sends
 * Origin on unsafe requests, so its absence means a non-browser client, which
 * should use `Authorization: Bearer` instead of cookies.
 */

/** Minimal header access; a Web `Headers` object fits. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** True when the request's origin is one of `trustedOrigins` (exact, normalised origins). */
export function isTrustedRequestOrigin(headers: HeaderReader, trustedOrigins: readonly string[]): boolean {
  const fetchSite = headers.get('sec-fetch-site');
  if (fetchSite !== null && fetchSite !== 'same-origin' && fetchSite !== 'same-site' && fetchSite !== 'none') return false;

  const origin = headers.get('origin');
  if (origin !== null) return trustedOrigins.includes(origin);

  const referer = headers.get('referer');
  if (referer === null) return false;
  let refererOrigin: string;
  try {
    refererOrigin = new URL(referer).origin;
  } catch {
    return false;
  }
  return trustedOrigins.includes(refererOrigin);
}
