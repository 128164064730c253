/**
 * A separate login app: a page on another origin (a login SPA) that holds a
 * short-lived JWT from a trusted issuer and turns it into this product's
 * HttpOnly cookie session with `POST /auth/login-app/<id>` (`{"token": "…"}`,
 * `credentials: 'include'`). CORS is answered for the app's allowed origins
 * on this endpoint only.
 *
 * Checks: the issuer's signature (its JWKS, asymmetric algorithms only),
 * `iss`, `aud`, a lifetime of at most `maxLifetimeSeconds` (≤ 60 s), a `jti`
 * never used before on any instance, and the caller's `Origin`.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { LoginAppConfig } from '../config/oidc-resolve.js';
import { GatehouseError } from '../core/errors.js';
import { normalizeUsername } from '../core/username.js';
import { readJSONBody } from '../http/request-body.js';
import { jsonResponse } from '../http/responses.js';
import type { UserRecord } from '../store/store.js';
import type { ExternalAccounts } from './external-accounts.js';
import { cookieSessionId, newSessionCookies, type Handler, type OIDCDeps } from './oidc-deps.js';

const body = z.strictObject({ token: z.string().min(1).max(8192) });
/** Clock difference tolerated between the login app's issuer and Gatehouse. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface LoginAppDeps extends OIDCDeps {
  readonly accounts: ExternalAccounts;
}

export function createLoginAppRoutes(deps: LoginAppDeps): {
  exchange: Handler;
  preflight: Handler;
  /** CORS headers for `request` when its Origin is allowed for app `id`, else null. */
  corsHeaders(request: Request, id: string): Record<string, string> | null;
} {
  const apps = new Map(deps.config.oidc.loginApps.map((app) => [app.id, app]));
  const keySets = new Map(deps.config.oidc.loginApps.map((app) => [app.id, createRemoteJWKSet(new URL(app.jwksURL), { timeoutDuration: 5_000 })]));

  const appFor = (id: string): LoginAppConfig => {
    const app = apps.get(id);
    if (app === undefined) throw new GatehouseError('NOT_FOUND');
    return app;
  };

  const corsHeaders = (request: Request, id: string): Record<string, string> | null => {
    const origin = request.headers.get('origin');
    const app = apps.get(id);
    if (origin === null || app === undefined || !app.allowedOrigins.includes(origin)) return null;
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
  };

  const preflight: Handler = async (request, _client, id) => {
    appFor(id);
    const cors = corsHeaders(request, id);
    if (cors === null) throw new GatehouseError('ORIGIN_REJECTED');
    // The allow-origin and credentials headers are added for every answer of this endpoint (oidc-routes.ts).
    return jsonResponse(204, null, {
      headers: { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' },
    });
  };

  const exchange: Handler = async (request, client, id) => {
    const app = appFor(id);
    // A browser always sends Origin on a cross-origin POST; only the app's own pages may sign users in here (login CSRF).
    if (corsHeaders(request, id) === null) throw new GatehouseError('ORIGIN_REJECTED');
    const parsed = body.safeParse(await readJSONBody(request, { limitBytes: deps.config.bodyLimitBytes, required: true }));
    if (!parsed.success) throw new GatehouseError('VALIDATION_FAILED', { message: 'Invalid or missing field(s): token.' });
    const claims = await verify(app, parsed.data.token);
    const expiresAt = (claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000;
    if (!(await deps.once.consume('login-app-token', `${app.id} ${claims.jti}`, Math.max(expiresAt, deps.clock.now() + 1000)))) {
      throw new GatehouseError('TOKEN_REPLAYED');
    }
    const user = await userFor(app, claims);
    const previous = await cookieSessionId(deps, request);
    const issued = await deps.auth.loginExternal(user.id, client, { method: 'login-app', app: app.id });
    if (previous !== null && previous !== issued.session.id) await deps.auth.logout(previous, client);
    const session = {
      id: issued.session.id,
      expiresAt: new Date(Math.min(issued.session.idleExpiresAt, issued.session.absoluteExpiresAt)).toISOString(),
      accessTokenExpiresAt: new Date(issued.accessTokenExpiresAt).toISOString(),
    };
    return jsonResponse(200, { user: issued.user, session }, { cookies: newSessionCookies(deps, issued) });
  };

  const verify = async (app: LoginAppConfig, token: string): Promise<{ sub: string; jti: string; exp: number; preferredUsername: string | null; email: string | null }> => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keySets.get(app.id) as ReturnType<typeof createRemoteJWKSet>, {
        issuer: app.issuer,
        audience: app.audience,
        algorithms: [...app.algorithms],
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        maxTokenAge: app.maxLifetimeSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(deps.clock.now()),
      }));
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
        throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
      }
      throw new GatehouseError('LOGIN_APP_TOKEN_INVALID', { cause: error });
    }
    const { sub, jti, iat, exp } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || jti === '' || typeof iat !== 'number' || typeof exp !== 'number') {
      throw new GatehouseError('LOGIN_APP_TOKEN_INVALID');
    }
    // Short-lived means short-lived: a token minted to live longer is refused even when presented early.
    if (exp - iat > app.maxLifetimeSeconds || exp <= iat) throw new GatehouseError('LOGIN_APP_TOKEN_INVALID', { message: 'The login token lives too long.' });
    const text = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : null);
    return { sub, jti, exp, preferredUsername: text('preferred_username'), email: text('email') };
  };

  const userFor = async (app: LoginAppConfig, claims: { sub: string; preferredUsername: string | null; email: string | null }): Promise<UserRecord> => {
    if (app.subject === 'username') {
      let username: string;
      try {
        username = normalizeUsername(claims.sub);
      } catch {
        throw new GatehouseError('OIDC_ACCOUNT_NOT_LINKED');
      }
      const user = await deps.store.findUserByUsername(username);
      if (user === null) throw new GatehouseError('OIDC_ACCOUNT_NOT_LINKED');
      return user;
    }
    const { user } = await deps.accounts.userFor(
      { issuer: app.issuer, subject: claims.sub, providerId: app.id, preferredUsername: claims.preferredUsername, email: claims.email },
      { createUsers: app.createUsers },
    );
    return user;
  };

  return { exchange, preflight, corsHeaders };
}
