/**
 * The OAuth authorization server, mounted by the engine beside `/auth` when
 * `oauth.enabled` is true (see docs/native-apps.md, docs/machine-access.md):
 *
 * - `GET|POST /oauth/authorize` — native apps' sign-in (authorization code + PKCE S256)
 * - `POST /oauth/token` — `authorization_code`, `refresh_token`, `client_credentials`
 * - `POST /oauth/revoke` (RFC 7009), `POST /oauth/introspect` (RFC 7662)
 * - `GET /.well-known/oauth-authorization-server` (RFC 8414)
 */
import type { ClientContext } from '../core/auth-service.js';
import { isGatehouseError } from '../core/errors.js';
import { createAuthorizeEndpoint } from './authorize-endpoint.js';
import { createMetadataEndpoint } from './metadata.js';
import { METADATA_PATH, OAUTH_ALLOW } from './oauth-paths.js';
import type { OAuthDeps, OAuthHandler } from './oauth-deps.js';
import { OAuthError, oauthErrorResponse } from './oauth-error.js';
import { createRevocationEndpoint, type RevokeOther } from './revocation-endpoint.js';
import type { SenderConstraintCheck } from './sender-constraint.js';
import { createTokenEndpoint, type ExtraGrant } from './token-endpoint.js';

type Route = Readonly<Partial<Record<'GET' | 'POST', OAuthHandler>>>;

export interface OAuthRoutes {
  handle(request: Request, client: ClientContext): Promise<Response>;
}

/** Optional parts: the machine-client module adds its grant, introspection and the revocation of its tokens; DPoP its proof check. */
export interface OAuthExtensions {
  readonly clientCredentials?: ExtraGrant;
  readonly introspect?: OAuthHandler;
  readonly revokeOther?: RevokeOther;
  readonly senderConstraint?: SenderConstraintCheck;
}

export function createOAuthRoutes(deps: OAuthDeps, extensions: OAuthExtensions = {}): OAuthRoutes {
  const authorize = createAuthorizeEndpoint(deps);
  const routes = new Map<string, Route>([
    ['/oauth/authorize', { GET: authorize.get, POST: authorize.post }],
    [
      '/oauth/token',
      {
        POST: createTokenEndpoint(deps, {
          ...(extensions.clientCredentials === undefined ? {} : { clientCredentials: extensions.clientCredentials }),
          ...(extensions.senderConstraint === undefined ? {} : { senderConstraint: extensions.senderConstraint }),
        }),
      },
    ],
    ['/oauth/revoke', { POST: createRevocationEndpoint(deps, extensions.revokeOther === undefined ? {} : { other: extensions.revokeOther }) }],
    [METADATA_PATH, { GET: createMetadataEndpoint(deps) }],
  ]);
  if (extensions.introspect !== undefined) routes.set('/oauth/introspect', { POST: extensions.introspect });

  return {
    async handle(request, client) {
      try {
        const path = new URL(request.url).pathname;
        const route = routes.get(path);
        if (route === undefined) return oauthErrorResponse(Object.assign(new OAuthError('invalid_request', 'Not found.'), { status: 404 }));
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const handler = route[method as 'GET' | 'POST'];
        if (handler === undefined) {
          const response = oauthErrorResponse(Object.assign(new OAuthError('invalid_request', 'This method is not allowed here.'), { status: 405 }));
          response.headers.set('allow', OAUTH_ALLOW.get(path) ?? '');
          return response;
        }
        const response = await handler(request, client);
        return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
      } catch (error) {
        if (!(error instanceof OAuthError) && !(isGatehouseError(error) && error.expose)) deps.logger.error({ err: error }, 'oauth request failed');
        return oauthErrorResponse(error);
      }
    },
  };
}
