import type { GatewayRoute } from '../config/resolve.js';
import type { Guard } from '../gatehouse.js';
import { pathUnderPrefix, type CheckedTarget } from './request-path.js';
import type { CredentialResolver } from './upstream-credentials.js';

/** A route ready to serve: its config, its guard and how it gets upstream credentials. */
export interface ActiveRoute {
  readonly config: GatewayRoute;
  readonly guard: Guard;
  readonly credentials: CredentialResolver;
  /** What `upstreamRequestHeaders` needs of the route, built once. */
  readonly headerRules: { readonly csrfHeaderName: string; readonly cookies: readonly string[] };
}

/**
 * The allowlist: routes by prefix, the longest first, so `/api/admin` wins
 * over `/api` for `/api/admin/users`. A path that matches none gets undefined.
 */
export class RouteTable {
  readonly #routes: readonly ActiveRoute[];

  constructor(routes: readonly ActiveRoute[]) {
    this.#routes = [...routes].sort((a, b) => b.config.prefix.length - a.config.prefix.length);
  }

  get routes(): readonly ActiveRoute[] {
    return this.#routes;
  }

  match(path: string): ActiveRoute | undefined {
    for (const route of this.#routes) if (pathUnderPrefix(path, route.config.prefix)) return route;
    return undefined;
  }
}

/**
 * The path and query the upstream is asked for: the upstream URL's own path,
 * then the request path (without the route prefix when the route strips it).
 * Built by concatenation, never by URL resolution, so nothing in the request
 * can change the upstream's origin or climb above its path.
 */
export function upstreamTarget(route: GatewayRoute, target: CheckedTarget): string {
  const base = route.upstream?.basePath ?? '';
  let rest = target.path;
  if (route.stripPrefix && route.prefix !== '/') rest = rest.slice(route.prefix.length);
  const path = base + rest;
  return (path === '' ? '/' : path) + target.query;
}

/**
 * The browser's view of a `Location` the upstream sent: an absolute URL on the
 * upstream's own origin (which names an internal host) becomes the public path
 * that reaches the same resource through this route, the inverse of
 * {@link upstreamTarget}. Anything else (relative, another origin, a path
 * outside the upstream's base path) is left as it is.
 */
export function publicLocation(route: GatewayRoute, location: string): string {
  const upstream = route.upstream;
  if (upstream === undefined || !location.startsWith(upstream.origin)) return location;
  let path = location.slice(upstream.origin.length);
  // `http://upstream:80` must not match `http://upstream:8081/…`.
  if (path !== '' && !'/?#'.includes(path.charAt(0))) return location;
  if (path.charAt(0) !== '/') path = `/${path}`;
  const base = upstream.basePath;
  if (base !== '' && path !== base && !'/?#'.includes(path.charAt(base.length) || 'x')) return location;
  if (!path.startsWith(base)) return location;
  const below = path.slice(base.length);
  if (route.stripPrefix && route.prefix !== '/') return route.prefix + below;
  return below.charAt(0) === '/' ? below : `/${below}`;
}
