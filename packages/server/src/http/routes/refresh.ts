import { GatehouseError } from '../../core/errors.js';
import { readCookie } from '../cookies.js';
import { jsonResponse } from '../responses.js';
import { readNoBody, requireCSRF, requireOrigin, sessionCookies, sessionView, type RouteHandler } from './context.js';

/** `POST /auth/refresh`: rotates the refresh cookie and issues a new access token. */
export const refresh: RouteHandler = async (deps, request, client) => {
  requireOrigin(deps, request);
  await readNoBody(deps, request);
  const refreshToken = readCookie(request.headers.get('cookie'), deps.config.cookies.refreshName);
  if (refreshToken === undefined) throw new GatehouseError('REFRESH_TOKEN_INVALID');
  const session = await deps.auth.sessionForRefreshToken(refreshToken);
  if (session === null) throw new GatehouseError('REFRESH_TOKEN_INVALID');
  requireCSRF(deps, request, session.id);
  const issued = await deps.auth.refresh(refreshToken, client);
  return jsonResponse(200, { user: issued.user, session: sessionView(issued.session, issued.accessTokenExpiresAt) }, {
    cookies: sessionCookies(deps, issued, undefined),
  });
};
