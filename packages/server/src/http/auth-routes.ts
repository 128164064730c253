import type { ClientContext } from '../core/auth-service.js';
import { GatehouseError } from '../core/errors.js';
import { JWKS_PATH } from './jwks-route.js';
import { errorResponse } from './responses.js';
import type { AuthRoutesDeps, RouteHandler } from './routes/context.js';
import { csrf } from './routes/csrf.js';
import { login } from './routes/login.js';
import { logout } from './routes/logout.js';
import { me } from './routes/me.js';
import { refresh } from './routes/refresh.js';
import { listSessions, revokeAllSessions, revokeSession } from './routes/sessions.js';

export type { AuthRoutesDeps } from './routes/context.js';

type Route = Readonly<Partial<Record<'GET' | 'POST' | 'DELETE', RouteHandler>>>;

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/auth/login', { POST: login }],
  ['/auth/me', { GET: me }],
  ['/auth/refresh', { POST: refresh }],
  ['/auth/logout', { POST: logout }],
  ['/auth/sessions', { GET: listSessions }],
  ['/auth/sessions/revoke-all', { POST: revokeAllSessions }],
  ['/auth/csrf', { GET: csrf }],
]);
/** `/auth/sessions/{id}`: one segment after the prefix. */
const SESSION_PREFIX = '/auth/sessions/';
const SESSION_ROUTE: Route = { DELETE: revokeSession };

/** The route for `pathname` and its `{id}` parameter (empty when the route has none), or undefined. */
function findRoute(pathname: string): { route: Route; param: string } | undefined {
  const route = ROUTES.get(pathname);
  if (route !== undefined) return { route, param: '' };
  if (pathname.startsWith(SESSION_PREFIX) && pathname.indexOf('/', SESSION_PREFIX.length) === -1) {
    return { route: SESSION_ROUTE, param: pathname.slice(SESSION_PREFIX.length) };
  }
  return undefined;
}

/** The methods a route answers, as an `Allow` value: GET brings HEAD. */
function allowOf(route: Route): string {
  return Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
}

/** The route's handler for `method` (HEAD is GET without the body), or 405 naming the methods it has. */
function findHandler(route: Route, method: string): RouteHandler {
  const handler = route[(method === 'HEAD' ? 'GET' : method) as keyof Route];
  if (handler !== undefined) return handler;
  throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: allowOf(route) } });
}

/**
 * The `Allow` value for an `/auth` path (`GET, HEAD` for the JWKS), or
 * undefined when no route has that path: what a 405 for a method the engine
 * never sees (TRACE) must name.
 */
export function allowedAuthMethods(pathname: string): string | undefined {
  if (pathname === JWKS_PATH) return 'GET, HEAD';
  const found = findRoute(pathname);
  return found === undefined ? undefined : allowOf(found.route);
}

/**
 * The `/auth/*` endpoints. See docs/http-api.md for the contract; every
 * response is JSON with `Cache-Control: no-store`. Each route's handler lives
 * in `routes/`; this is the dispatch and the one place errors become responses.
 */
export function createAuthRoutes(deps: AuthRoutesDeps): (request: Request, client: ClientContext) => Promise<Response> {
  return async function handleAuthRequest(request, client) {
    try {
      const found = findRoute(new URL(request.url).pathname);
      if (found === undefined) throw new GatehouseError('NOT_FOUND');
      const { route, param } = found;
      const response = await findHandler(route, request.method)(deps, request, client, param);
      return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (error) {
      if (!(error instanceof GatehouseError) || !error.expose) deps.logger.error({ err: error }, 'auth request failed');
      const attached = (error as { setCookies?: readonly string[] }).setCookies;
      const clear = error instanceof GatehouseError && error.code.startsWith('REFRESH_TOKEN') ? deps.cookies.clearSession() : undefined;
      return errorResponse(error, { cookies: attached ?? clear ?? [] });
    }
  };
}
