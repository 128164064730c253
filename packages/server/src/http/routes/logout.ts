import { GatehouseError } from '../../core/errors.js';
import { cookieSessionId, readNoBody, requireCSRF, requireOrigin, signedOut, type AuthRoutesDeps, type RouteHandler } from './context.js';

/** `POST /auth/logout`: ends the caller's session, if any, and clears its cookies either way. */
export const logout: RouteHandler = async (deps, request, client) => {
  await readNoBody(deps, request);
  const sessionId = await sessionToEnd(deps, request);
  if (sessionId !== null) await deps.auth.logout(sessionId, client);
  return signedOut(deps);
};

/**
 * Logout must work with an expired access token, so the session may also
 * be found through the refresh cookie. Either way a cookie-borne logout
 * needs the Origin and CSRF checks (a forced logout is a CSRF attack too).
 */
async function sessionToEnd(deps: AuthRoutesDeps, request: Request): Promise<string | null> {
  const authorization = request.headers.get('authorization');
  if (authorization !== null) {
    // Judged by the header alone, as the guard does: never a fallback to cookies.
    if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') throw new GatehouseError('INVALID_AUTHORIZATION');
    const result = await deps.tokens.verify(authorization.slice(7).trim());
    if (!result.ok) throw new GatehouseError(result.code);
    return result.claims.sid;
  }
  requireOrigin(deps, request);
  const sessionId = await cookieSessionId(deps, request);
  if (sessionId !== null) requireCSRF(deps, request, sessionId);
  return sessionId;
}
