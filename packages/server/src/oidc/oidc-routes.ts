/**
 * The OpenID Connect and login-app endpoints, mounted by the engine beside
 * the `/auth` routes (see docs/http-api.md and docs/oidc.md):
 *
 * - `GET  /auth/oidc/providers`
 * - `GET  /auth/oidc/<id>/login`, `GET /auth/oidc/<id>/callback`, `POST /auth/oidc/<id>/link`
 * - `POST /auth/oidc/logout`, `POST /auth/oidc/<id>/backchannel-logout`
 * - `POST` and `OPTIONS /auth/login-app/<id>`
 *
 * `openid-client` is imported only when a provider is configured.
 */
import type { ClientContext } from '../core/auth-service.js';
import { GatehouseError } from '../core/errors.js';
import { errorResponse } from '../http/responses.js';
import { ExternalAccounts } from './external-accounts.js';
import { createLoginAppRoutes } from './login-app.js';
import { createLoginRoutes } from './login-routes.js';
import { createLogoutRoutes } from './logout-routes.js';
import type { Handler, OIDCDeps } from './oidc-deps.js';
import { ProviderClient, type OpenIDClientModule } from './provider-client.js';
import { ProviderTokenVault, type ProviderTokenSource } from './provider-tokens.js';

export interface OIDCRoutes {
  /** True for a path these routes answer (`/auth/oidc/…`, `/auth/login-app/…`). */
  owns(pathname: string): boolean;
  /** Answers a request for such a path. Web-standard in and out; never throws. */
  handle(request: Request, client: ClientContext): Promise<Response>;
  /** The provider tokens of sessions opened through a provider (undefined when no provider is configured); see {@link ProviderTokenSource}. */
  readonly providerTokens: ProviderTokenSource | undefined;
}

type Method = 'GET' | 'POST' | 'OPTIONS';
type Route = Readonly<Partial<Record<Method, Handler>>>;

const ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export async function createOIDCRoutes(deps: OIDCDeps): Promise<OIDCRoutes> {
  const { providers } = deps.config.oidc;
  const lib: OpenIDClientModule | null = providers.length === 0 ? null : await import('openid-client');
  const clients = new Map(lib === null ? [] : providers.map((p) => [p.id, new ProviderClient(p, lib, deps.clock)] as const));
  const vault = new ProviderTokenVault({ store: deps.store, key: deps.keys.providerTokenEncryption, clients, clock: deps.clock, logger: deps.logger });
  const accounts = new ExternalAccounts({ store: deps.store, hasher: deps.hasher, clock: deps.clock });
  const login = createLoginRoutes({ ...deps, lib, clients, accounts, vault });
  const logout = createLogoutRoutes({ ...deps, clients, vault });
  const loginApp = createLoginAppRoutes({ ...deps, accounts });

  const fixed = new Map<string, Route>([
    ['/auth/oidc/providers', { GET: login.providers }],
    ['/auth/oidc/logout', { POST: logout.logout }],
  ]);
  const perProvider = new Map<string, Route>([
    ['login', { GET: login.login }],
    ['callback', { GET: login.callback }],
    ['link', { POST: login.link }],
    ['backchannel-logout', { POST: logout.backchannel }],
  ]);
  const loginAppRoute: Route = { POST: loginApp.exchange, OPTIONS: loginApp.preflight };

  /** The route and its id for a path, or undefined. */
  const resolve = (pathname: string): { route: Route; id: string; loginAppId: string | null } | undefined => {
    const exact = fixed.get(pathname);
    if (exact !== undefined) return { route: exact, id: '', loginAppId: null };
    const parts = pathname.split('/'); // ['', 'auth', 'oidc', id, action]
    if (parts.length === 5 && parts[2] === 'oidc' && ID.test(parts[3] ?? '')) {
      const route = perProvider.get(parts[4] ?? '');
      return route === undefined ? undefined : { route, id: parts[3] ?? '', loginAppId: null };
    }
    if (parts.length === 4 && parts[2] === 'login-app' && ID.test(parts[3] ?? '')) return { route: loginAppRoute, id: parts[3] ?? '', loginAppId: parts[3] ?? '' };
    return undefined;
  };

  return {
    providerTokens: lib === null ? undefined : vault,
    owns: (pathname) => pathname.startsWith('/auth/oidc/') || pathname.startsWith('/auth/login-app/'),
    async handle(request, client) {
      let cors: Record<string, string> | null = null;
      try {
        const found = resolve(new URL(request.url).pathname);
        if (found === undefined) throw new GatehouseError('NOT_FOUND');
        if (found.loginAppId !== null) cors = loginApp.corsHeaders(request, found.loginAppId);
        const handler = found.route[request.method as Method];
        if (handler === undefined) throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: Object.keys(found.route).join(', ') } });
        return withHeaders(await handler(request, client, found.id), cors);
      } catch (error) {
        if (!(error instanceof GatehouseError) || !error.expose) deps.logger.error({ err: error }, 'oidc request failed');
        // The login app's page must be able to read why it was refused, too.
        return withHeaders(errorResponse(error, { cookies: (error as { setCookies?: readonly string[] }).setCookies ?? [] }), cors);
      }
    },
  };
}

/** `response` with `headers` added (the login app's CORS headers, for its allowed page only). */
function withHeaders(response: Response, headers: Readonly<Record<string, string>> | null): Response {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name === 'vary') response.headers.append(name, value);
    else response.headers.set(name, value);
  }
  return response;
}
