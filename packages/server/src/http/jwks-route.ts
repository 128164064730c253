import { GatehouseError } from '../core/errors.js';
import type { SigningKeySet } from '../core/signing-keys.js';
import { errorResponse, jsonResponse } from './responses.js';

/** Where the public keys are published (RFC 8414's conventional location). */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * How long downstream services may cache the key set. Well below
 * `signing.publishAheadSeconds` (600 by default), so a cache that honours it
 * has fetched a new key before that key signs anything.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/jwks.json`: the public keys that may verify access tokens
 * now (pending, active and retired keys), each with `kid`, `alg` and
 * `use: sig`. With HS256 there is nothing to publish (a symmetric secret is
 * never published), and the answer is 404 `NOT_FOUND`, so a service wired to
 * the wrong server or algorithm fails loudly rather than holding an empty set.
 *
 * The body is public, so it may be cached and read cross-origin.
 */
export function createJWKSHandler(keySet: SigningKeySet | null): (request: Request) => Response {
  return function handleJWKSRequest(request) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return errorResponse(new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: 'GET, HEAD' } }));
    }
    if (keySet === null) return errorResponse(new GatehouseError('NOT_FOUND'));
    const response = jsonResponse(200, keySet.jwks(), {
      headers: {
        'content-type': 'application/jwk-set+json',
        'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
        'access-control-allow-origin': '*',
        'cross-origin-resource-policy': 'cross-origin',
      },
    });
    return request.method === 'HEAD' ? new Response(null, { status: 200, headers: response.headers }) : response;
  };
}

/** True when `url` (absolute, as in a Web `Request`) names the JWKS path; a query string is ignored. */
export function isJWKSURL(url: string): boolean {
  try {
    return new URL(url).pathname === JWKS_PATH;
  } catch {
    return false;
  }
}
