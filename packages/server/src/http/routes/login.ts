import { z } from 'zod';
import { jsonResponse } from '../responses.js';
import { cookieSessionId, readBody, requireOrigin, sessionCookies, sessionView, type RouteHandler } from './context.js';

// Unknown keys (including __proto__ and constructor) are refused, not ignored: no mass assignment.
const loginBody = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024) });

/** `POST /auth/login`: a new session from a username and password. */
export const login: RouteHandler = async (deps, request, client) => {
  requireOrigin(deps, request); // login CSRF: a foreign page must not sign the victim into the attacker's account
  const body = await readBody(deps, request, loginBody);
  const previous = await cookieSessionId(deps, request);
  const issued = await deps.auth.login(body, client);
  // A new session token on re-authentication, and the one it replaces ends (ASVS 5.0 7.2.4):
  // its cookies are overwritten below, so nothing legitimate holds it any more.
  if (previous !== null && previous !== issued.session.id) await deps.auth.logout(previous, client);
  return jsonResponse(200, { user: issued.user, session: sessionView(issued.session, issued.accessTokenExpiresAt) }, {
    cookies: sessionCookies(deps, issued, issued.csrfToken),
  });
};
