/**
 * What the `/auth` route handlers share: their dependencies, and the checks and
 * response pieces more than one route needs, each named once.
 */
import type { z } from 'zod';
import type { GatehouseConfig } from '../../config/resolve.js';
import type { AccessTokenService } from '../../core/access-token.js';
import type { AuthService, ClientContext, IssuedSession } from '../../core/auth-service.js';
import type { Clock } from '../../core/clock.js';
import { csrfTokensEqual, verifyCSRFToken } from '../../core/csrf.js';
import { GatehouseError } from '../../core/errors.js';
import type { KeyRing } from '../../core/keys.js';
import type { Logger } from '../../core/logger.js';
import type { SessionRecord, Store } from '../../store/store.js';
import { readCookie } from '../cookies.js';
import type { Auth, GuardOutcome, GuardRequest } from '../guard.js';
import { readJSONBody } from '../request-body.js';
import { isTrustedRequestOrigin } from '../request-origin.js';
import { noContent } from '../responses.js';
import { readAccessToken, sessionCookieMaxAgeSeconds, type SessionCookies } from '../session-cookies.js';

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

/** One route's answer to one method. `param` is the path's last segment on `/auth/sessions/{id}`. */
export type RouteHandler = (deps: AuthRoutesDeps, request: Request, client: ClientContext, param: string) => Promise<Response>;

/** Reads the JSON body (size limit, JSON only) and validates it against `schema`. */
export async function readBody<T>(deps: AuthRoutesDeps, request: Request, schema: z.ZodType<T>): Promise<T> {
  const result = schema.safeParse(await readJSONBody(request, { limitBytes: deps.config.bodyLimitBytes, required: true }));
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || 'body'))].join(', ');
    throw new GatehouseError('VALIDATION_FAILED', { message: `Invalid or missing field(s): ${fields}.` });
  }
  return result.data;
}

/** For routes that take no body: none, or a JSON one within the limit (which is ignored). */
export async function readNoBody(deps: AuthRoutesDeps, request: Request): Promise<void> {
  await readJSONBody(request, { limitBytes: deps.config.bodyLimitBytes, required: false });
}

/** A session as the API shows it to its own user. */
export function sessionView(session: SessionRecord, accessTokenExpiresAt: number): Record<string, string> {
  return {
    id: session.id,
    expiresAt: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
    accessTokenExpiresAt: new Date(accessTokenExpiresAt).toISOString(),
  };
}

/** The cookies of a freshly issued session: access and refresh, and the CSRF cookie when one was minted. */
export function sessionCookies(deps: AuthRoutesDeps, issued: IssuedSession, csrfToken: string | undefined): string[] {
  const now = deps.clock.now();
  const maxAge = sessionCookieMaxAgeSeconds(issued.session, now);
  const list = [...deps.cookies.access(issued.accessToken, maxAge), deps.cookies.refresh(issued.refreshToken, maxAge)];
  if (csrfToken !== undefined) list.push(deps.cookies.csrf(csrfToken, Math.floor((issued.session.absoluteExpiresAt - now) / 1000)));
  return list;
}

/** The answer of every route that ends the caller's own session: 204, cookies and site data cleared. */
export function signedOut(deps: AuthRoutesDeps): Response {
  return noContent({ headers: { 'clear-site-data': '"cookies"' }, cookies: deps.cookies.clearSession() });
}

/** Refuses a request whose Origin (or Referer) is not one of `trustedOrigins`. */
export function requireOrigin(deps: AuthRoutesDeps, request: Request): void {
  if (!isTrustedRequestOrigin(request.headers, deps.config.trustedOrigins)) throw new GatehouseError('ORIGIN_REJECTED');
}

/** Refuses a request whose CSRF header does not match its cookie or is not bound to `sessionId`. */
export function requireCSRF(deps: AuthRoutesDeps, request: Request, sessionId: string): void {
  const header = request.headers.get(deps.config.csrfHeaderName);
  const cookie = readCookie(request.headers.get('cookie'), deps.config.cookies.csrfName);
  if (!csrfTokensEqual(header, cookie) || !verifyCSRFToken(deps.keys.csrf, header, { kind: 'session', id: sessionId })) {
    throw new GatehouseError('CSRF_REJECTED');
  }
}

/** The default guard as a throwing call; its cookies (a cleared session) ride on the error response. */
export async function requireAuth(deps: AuthRoutesDeps, request: Request, client: ClientContext): Promise<Auth> {
  const outcome = await deps.guard(request, client);
  if (!outcome.ok) throw Object.assign(outcome.error, { setCookies: outcome.setCookies });
  if (outcome.auth === null) throw new GatehouseError('UNAUTHENTICATED');
  return outcome.auth;
}

/** The session this browser's cookies name: the access token's, or (once it expired) the refresh token's. */
export async function cookieSessionId(deps: AuthRoutesDeps, request: Request): Promise<string | null> {
  const cookieHeader = request.headers.get('cookie');
  const access = readAccessToken(cookieHeader, deps.config.cookies);
  if (access !== undefined) {
    const result = await deps.tokens.verify(access);
    if (result.ok) return result.claims.sid;
  }
  const refreshToken = readCookie(cookieHeader, deps.config.cookies.refreshName);
  if (refreshToken === undefined) return null;
  return (await deps.auth.sessionForRefreshToken(refreshToken))?.id ?? null;
}
