// What the client reads from the page it runs in, with fallbacks for a page-less test or worker.

/** The page's origin; the server's when the client runs without a page (tests, workers). */
export function pageOrigin(baseURL: string): string {
  const location = (globalThis as { location?: { origin?: string } }).location;
  if (typeof location?.origin === 'string' && location.origin !== 'null') return location.origin;
  return new URL(baseURL).origin;
}

/** The page's cookies as `document.cookie` shows them (none without a document). */
export function defaultReadCookies(): string {
  return (globalThis as { document?: { cookie?: string } }).document?.cookie ?? '';
}
