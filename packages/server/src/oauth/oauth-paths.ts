/**
 * Which paths the OAuth authorization server answers: known to the engine and
 * the adapters even when the OAuth code itself is not loaded.
 */

/** RFC 8414 server metadata. */
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** Every path and its methods, for `Allow` on a 405 (TRACE included). */
export const OAUTH_ALLOW: ReadonlyMap<string, string> = new Map([
  ['/oauth/authorize', 'GET, HEAD, POST'],
  ['/oauth/token', 'POST'],
  ['/oauth/revoke', 'POST'],
  ['/oauth/introspect', 'POST'],
  [METADATA_PATH, 'GET, HEAD'],
]);

/** True for a raw request target the OAuth routes answer (`/oauth/…`, the metadata), query included. */
export function isOAuthPath(target: string): boolean {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  return path.startsWith('/oauth/') || path === METADATA_PATH;
}
