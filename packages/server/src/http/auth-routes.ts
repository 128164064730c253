import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { GatehouseConfig } from '../config/resolve.js';
import type { AccessTokenService } from '../core/access-token.js';
import type { AuthService, ClientContext, IssuedSession } from '../core/auth-service.js';
import type { Clock } from '../core/clock.js';
import { csrfTokensEqual, mintCSRFToken, verifyCSRFToken } from '../core/csrf.js';
import { GatehouseError } from '../core/errors.js';
import type { KeyRing } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { SessionRecord, Store } from '../store/store.js';
import { readCookie } from './cookies.js';
import type { GuardOutcome, GuardRequest } from './guard.js';
import { readJSONBody } from './request-body.js';
import { isTrustedRequestOrigin } from './request-origin.js';
import { errorResponse, jsonResponse, noContent } from './responses.js';
import { ANONYMOUS_COOKIE_MAX_AGE_SECONDS, sessionCookieMaxAgeSeconds, type SessionCookies } from './session-cookies.js';

export interface AuthRoutesDeps {
  readonly config: GatehouseConfig;
  readonly auth: AuthService;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly tokens: AccessTokenService;
  readonly cookies: SessionCookies;
  readonly logger: Logger;
  /** The default guard (session required, CSRF enforced). */
  readonly guard: (request: GuardRequest, client: ClientContext) => Promise<GuardOutcome>;
}

type Handler = (request: Request, client: ClientContext, param: string | undefined) => Promise<Response>;
type Route = Readonly<Partial<Record<'GET' | 'POST' | 'DELETE', Handler>>>;

// Unknown keys (including __proto__ and constructor) are refused, not ignored: no mass assignment.
const loginBody = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(1024) });
const revokeAllBody = z.strictObject({ password: z.string().min(1).max(1024) });
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;
const ANONYMOUS_ID = /^[A-Za-z0-9_-]{22}$/;
const CLEAR_SITE_DATA = { 'clear-site-data': '"cookies"' };

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || 'body'))].join(', ');
    throw new GatehouseError('VALIDATION_FAILED', { message: `Invalid or missing field(s): ${fields}.` });
  }
  return result.data;
}

function sessionView(session: SessionRecord, accessTokenExpiresAt: number): Record<string, string> {
  return {
    id: session.id,
    expiresAt: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
    accessTokenExpiresAt: new Date(accessTokenExpiresAt).toISOString(),
  };
}

/**
 * The `/auth/*` endpoints. See docs/http-api.md for the contract; every
 * response is JSON with `Cache-Control: no-store`.
 */
export function createAuthRoutes(deps: AuthRoutesDeps): (request: Request, client: ClientContext) => Promise<Response> {
  const { config, auth, cookies, keys } = deps;
  const limitBytes = config.bodyLimitBytes;

  const sessionCookies = (issued: IssuedSession, csrfToken: string | undefined): string[] => {
    const maxAge = sessionCookieMaxAgeSeconds(issued.session, deps.clock.now());
    const list = [cookies.access(issued.accessToken, maxAge), cookies.refresh(issued.refreshToken, maxAge)];
    if (csrfToken !== undefined) {
      list.push(cookies.csrf(csrfToken, Math.floor((issued.session.absoluteExpiresAt - deps.clock.now()) / 1000)));
    }
    return list;
  };

  const requireOrigin = (request: Request): void => {
    if (!isTrustedRequestOrigin(request.headers, config.trustedOrigins)) throw new GatehouseError('ORIGIN_REJECTED');
  };

  /** The default guard as a throwing call; its cookies (a cleared session) ride on the error response. */
  const requireAuth = async (request: Request, client: ClientContext) => {
    const outcome = await deps.guard(request, client);
    if (!outcome.ok) throw Object.assign(outcome.error, { setCookies: outcome.setCookies });
    if (outcome.auth === null) throw new GatehouseError('UNAUTHENTICATED');
    return outcome.auth;
  };

  const login: Handler = async (request, client) => {
    requireOrigin(request); // login CSRF: a foreign page must not sign the victim into the attacker's account
    const body = parse(loginBody, await readJSONBody(request, { limitBytes, required: true }));
    const previous = await cookieSessionId(request);
    const issued = await auth.login(body, client);
    // A new session token on re-authentication, and the one it replaces ends (ASVS 5.0 7.2.4):
    // its cookies are overwritten below, so nothing legitimate holds it any more.
    if (previous !== null && previous !== issued.session.id) await auth.logout(previous, client);
    return jsonResponse(200, { user: issued.user, session: sessionView(issued.session, issued.accessTokenExpiresAt) }, {
      cookies: sessionCookies(issued, issued.csrfToken),
    });
  };

  const me: Handler = async (request, client) => {
    const current = await requireAuth(request, client);
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

  const refresh: Handler = async (request, client) => {
    requireOrigin(request);
    await readJSONBody(request, { limitBytes, required: false });
    const refreshToken = readCookie(request.headers.get('cookie'), config.cookies.refreshName);
    if (refreshToken === undefined) throw new GatehouseError('REFRESH_TOKEN_INVALID');
    const session = await auth.sessionForRefreshToken(refreshToken);
    if (session === null) throw new GatehouseError('REFRESH_TOKEN_INVALID');
    requireCSRF(request, session.id);
    const issued = await auth.refresh(refreshToken, client);
    return jsonResponse(200, { user: issued.user, session: sessionView(issued.session, issued.accessTokenExpiresAt) }, {
      cookies: sessionCookies(issued, undefined),
    });
  };

  const requireCSRF = (request: Request, sessionId: string): void => {
    const header = request.headers.get(config.csrfHeaderName);
    const cookie = readCookie(request.headers.get('cookie'), config.cookies.csrfName);
    if (!csrfTokensEqual(header, cookie) || !verifyCSRFToken(keys.csrf, header, { kind: 'session', id: sessionId })) {
      throw new GatehouseError('CSRF_REJECTED');
    }
  };

  const logout: Handler = async (request, client) => {
    await readJSONBody(request, { limitBytes, required: false });
    const sessionId = await identifySessionForLogout(request);
    if (sessionId !== null) await auth.logout(sessionId, client);
    return noContent({ headers: CLEAR_SITE_DATA, cookies: cookies.clearSession() });
  };

  /**
   * Logout must work with an expired access token, so the session may also
   * be found through the refresh cookie. Either way a cookie-borne logout
   * needs the Origin and CSRF checks (a forced logout is a CSRF attack too).
   */
  const identifySessionForLogout = async (request: Request): Promise<string | null> => {
    const authorization = request.headers.get('authorization');
    if (authorization !== null) {
      // Judged by the header alone, as the guard does: never a fallback to cookies.
      if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') throw new GatehouseError('INVALID_AUTHORIZATION');
      const result = await deps.tokens.verify(authorization.slice(7).trim());
      if (!result.ok) throw new GatehouseError(result.code);
      return result.claims.sid;
    }
    requireOrigin(request);
    const sessionId = await cookieSessionId(request);
    if (sessionId !== null) requireCSRF(request, sessionId);
    return sessionId;
  };

  /** The session this browser's cookies name: the access token's, or (once it expired) the refresh token's. */
  const cookieSessionId = async (request: Request): Promise<string | null> => {
    const cookieHeader = request.headers.get('cookie');
    const access = readCookie(cookieHeader, config.cookies.accessName);
    if (access !== undefined) {
      const result = await deps.tokens.verify(access);
      if (result.ok) return result.claims.sid;
    }
    const refreshToken = readCookie(cookieHeader, config.cookies.refreshName);
    if (refreshToken === undefined) return null;
    return (await auth.sessionForRefreshToken(refreshToken))?.id ?? null;
  };

  const listSessions: Handler = async (request, client) => {
    const current = await requireAuth(request, client);
    const sessions = await auth.listSessions(current.user.id);
    return jsonResponse(200, {
      sessions: sessions.map((s) => ({
        id: s.id,
        createdAt: new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt).toISOString(),
        expiresAt: new Date(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)).toISOString(),
        userAgent: s.userAgent,
        ip: s.ip,
        current: s.id === current.sessionId,
      })),
    });
  };

  const revokeSession: Handler = async (request, client, id) => {
    const current = await requireAuth(request, client);
    if (id === undefined || !SESSION_ID.test(id)) throw new GatehouseError('SESSION_NOT_FOUND');
    await auth.revokeOwnSession(current.user.id, id, client);
    return id === current.sessionId ? noContent({ headers: CLEAR_SITE_DATA, cookies: cookies.clearSession() }) : noContent();
  };

  const revokeAll: Handler = async (request, client) => {
    const current = await requireAuth(request, client);
    const body = parse(revokeAllBody, await readJSONBody(request, { limitBytes, required: true }));
    await auth.revokeAllSessions(current.user.id, body.password, client);
    return noContent({ headers: CLEAR_SITE_DATA, cookies: cookies.clearSession() });
  };

  const csrf: Handler = async (request, client) => {
    // A signed-in browser gets a token for its session; anyone else one bound to an anonymous cookie.
    const cookieHeader = request.headers.get('cookie');
    const access = readCookie(cookieHeader, config.cookies.accessName);
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

  const routes = new Map<string, Route>([
    ['/auth/login', { POST: login }],
    ['/auth/me', { GET: me }],
    ['/auth/refresh', { POST: refresh }],
    ['/auth/logout', { POST: logout }],
    ['/auth/sessions', { GET: listSessions }],
    ['/auth/sessions/revoke-all', { POST: revokeAll }],
    ['/auth/csrf', { GET: csrf }],
  ]);
  const sessionRoute: Route = { DELETE: revokeSession };

  return async function handleAuthRequest(request, client) {
    try {
      const { pathname } = new URL(request.url);
      let route = routes.get(pathname);
      let param: string | undefined;
      if (route === undefined && pathname.startsWith('/auth/sessions/') && pathname.indexOf('/', 15) === -1) {
        route = sessionRoute;
        param = pathname.slice(15);
      }
      if (route === undefined) throw new GatehouseError('NOT_FOUND');
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const handler = route[method as keyof Route];
      if (handler === undefined) {
        const allow = Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
        throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow } });
      }
      const response = await handler(request, client, param);
      return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (error) {
      if (!(error instanceof GatehouseError) || !error.expose) deps.logger.error({ err: error }, 'auth request failed');
      const attached = (error as { setCookies?: readonly string[] }).setCookies;
      const clear = error instanceof GatehouseError && error.code.startsWith('REFRESH_TOKEN') ? cookies.clearSession() : undefined;
      return errorResponse(error, { cookies: attached ?? clear ?? [] });
    }
  };
}
