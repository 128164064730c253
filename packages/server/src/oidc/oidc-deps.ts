/**
 * What the OpenID Connect and login-app routes share: their dependencies and
 * the small HTTP helpers every one of them needs (session cookies, redirects,
 * the session a browser's cookies name).
 */
import type { GatehouseConfig } from '../config/resolve.js';
import type { AccessTokenService } from '../core/access-token.js';
import type { AuthService, ClientContext, IssuedSession } from '../core/auth-service.js';
import type { Clock } from '../core/clock.js';
import type { ConsumeOnce } from '../core/consume-once.js';
import type { KeyRing } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { PasswordHasher } from '../core/password.js';
import type { RevocationList } from '../core/revocation-list.js';
import { readCookie } from '../http/cookies.js';
import type { GuardOutcome, GuardRequest } from '../http/guard.js';
import { jsonResponse } from '../http/responses.js';
import { readAccessToken, sessionCookieMaxAgeSeconds, type SessionCookies } from '../http/session-cookies.js';
import type { IdentityStore } from '../store/identity-store.js';
import type { ProviderSessionStore } from '../store/provider-session-store.js';
import type { AuditEvent, Store } from '../store/store.js';

/** The store with the domains these routes use. */
export type OIDCStore = Store & IdentityStore & ProviderSessionStore;

export interface OIDCDeps {
  readonly config: GatehouseConfig;
  readonly auth: AuthService;
  readonly store: OIDCStore;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly tokens: AccessTokenService;
  readonly cookies: SessionCookies;
  readonly logger: Logger;
  readonly revocations: RevocationList;
  readonly once: ConsumeOnce;
  readonly hasher: PasswordHasher;
  readonly audit: (event: AuditEvent) => Promise<void>;
  /** The default guard (session required, CSRF enforced). */
  readonly guard: (request: GuardRequest, client: ClientContext) => Promise<GuardOutcome>;
}

/** A route handler; `param` is the provider or login-app id from the path. */
export type Handler = (request: Request, client: ClientContext, param: string) => Promise<Response>;

/** The session cookies for a new session, CSRF cookie included. */
export function newSessionCookies(deps: Pick<OIDCDeps, 'cookies' | 'clock'>, issued: IssuedSession): string[] {
  const now = deps.clock.now();
  const maxAge = sessionCookieMaxAgeSeconds(issued.session, now);
  const list = [...deps.cookies.access(issued.accessToken, maxAge), deps.cookies.refresh(issued.refreshToken, maxAge)];
  if (issued.csrfToken !== undefined) list.push(deps.cookies.csrf(issued.csrfToken, Math.floor((issued.session.absoluteExpiresAt - now) / 1000)));
  return list;
}

/** A 303 to a same-origin path (already checked by the caller). */
export function redirectTo(location: string, cookies: readonly string[]): Response {
  return jsonResponse(303, null, { headers: { location }, cookies });
}

/** The session this browser's cookies name: the access token's, or (once it expired) the refresh token's. */
export async function cookieSessionId(deps: Pick<OIDCDeps, 'config' | 'tokens' | 'auth'>, request: Request): Promise<string | null> {
  const header = request.headers.get('cookie');
  const access = readAccessToken(header, deps.config.cookies); // one cookie, or the split pair joined
  if (access !== undefined) {
    const result = await deps.tokens.verify(access);
    if (result.ok) return result.claims.sid;
  }
  const refreshToken = readCookie(header, deps.config.cookies.refreshName);
  if (refreshToken === undefined) return null;
  return (await deps.auth.sessionForRefreshToken(refreshToken))?.id ?? null;
}
