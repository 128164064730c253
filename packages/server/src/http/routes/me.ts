import { mintCSRFToken, verifyCSRFToken } from '../../core/csrf.js';
import { GatehouseError } from '../../core/errors.js';
import { readCookie } from '../cookies.js';
import { jsonResponse } from '../responses.js';
import { requireAuth, sessionView, type RouteHandler } from './context.js';

/** `GET /auth/me`: who is signed in, and their session, read from the store (not only the token). */
export const me: RouteHandler = async (deps, request, client) => {
  const { config, cookies, keys } = deps;
  const current = await requireAuth(deps, request, client);
  const session = await deps.store.findSession(current.sessionId);
  const now = deps.clock.now();
  if (session === null || session.revokedAt !== null || Math.min(session.idleExpiresAt, session.absoluteExpiresAt) <= now) {
    throw new GatehouseError('SESSION_REVOKED');
  }
  // Re-issue the CSRF cookie if it is missing or belongs to another session, so a cleared cookie does not strand the user.
  const binding = { kind: 'session', id: session.id } as const;
  const extra: string[] = [];
  if (current.via === 'cookie' && !verifyCSRFToken(keys.csrf, readCookie(request.headers.get('cookie'), config.cookies.csrfName), binding)) {
    extra.push(cookies.csrf(mintCSRFToken(keys.csrf, binding), Math.floor((session.absoluteExpiresAt - now) / 1000)));
  }
  return jsonResponse(200, { user: current.user, session: sessionView(session, current.expiresAt) }, { cookies: extra });
};
