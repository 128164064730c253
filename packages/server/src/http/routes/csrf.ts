import { randomBytes } from 'node:crypto';
import { mintCSRFToken } from '../../core/csrf.js';
import { readCookie } from '../cookies.js';
import { jsonResponse } from '../responses.js';
import { ANONYMOUS_COOKIE_MAX_AGE_SECONDS, readAccessToken } from '../session-cookies.js';
import type { RouteHandler } from './context.js';

const ANONYMOUS_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * `GET /auth/csrf`: a signed-in browser gets a token for its session; anyone
 * else one bound to an anonymous cookie.
 */
export const csrf: RouteHandler = async (deps, request, client) => {
  const { config, cookies, keys } = deps;
  const cookieHeader = request.headers.get('cookie');
  const access = readAccessToken(cookieHeader, config.cookies);
  if (access !== undefined && request.headers.get('authorization') === null) {
    const outcome = await deps.guard(request, client);
    if (outcome.ok && outcome.auth !== null) {
      const token = mintCSRFToken(keys.csrf, { kind: 'session', id: outcome.auth.sessionId });
      return jsonResponse(200, { csrfToken: token }, { cookies: [cookies.csrf(token, config.session.absoluteTimeoutSeconds)] });
    }
  }
  const existing = readCookie(cookieHeader, config.cookies.anonymousName);
  const anonymousId = existing !== undefined && ANONYMOUS_ID.test(existing) ? existing : randomBytes(16).toString('base64url');
  const token = mintCSRFToken(keys.csrf, { kind: 'anonymous', id: anonymousId });
  const set: string[] = [];
  if (anonymousId !== existing) set.push(cookies.anonymous(anonymousId));
  // A session that merely needs refreshing keeps its own XSRF cookie; overwriting it would strand the refresh.
  const sessionMayLive = access !== undefined || readCookie(cookieHeader, config.cookies.refreshName) !== undefined;
  if (!sessionMayLive) set.push(cookies.csrf(token, ANONYMOUS_COOKIE_MAX_AGE_SECONDS));
  return jsonResponse(200, { csrfToken: token }, { cookies: set });
};
