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
import { createClientCredentialsGrant } from './client-credentials.js';
import type { ClientTokenService } from './client-token.js';
import { createIntrospectionEndpoint } from './introspection-endpoint.js';
import { createMetadataEndpoint } from './metadata.js';
import { METADATA_PATH, OAUTH_ALLOW } from './oauth-paths.js';
import type { OAuthDeps, OAuthHandler } from './oauth-deps.js';
import { OAuthError, oauthErrorResponse } from './oauth-error.js';
import { createRevocationEndpoint, type RevokeOther } from './revocation-endpoint.js';
import type { SenderConstraintCheck } from './sender-constraint.js';
import { createTokenEndpoint } from './token-endpoint.js';

type Route = Readonly<Partial<Record<'GET' | 'POST', OAuthHandler>>>;

export interface OAuthRoutes {
  handle(request: Request, client: ClientContext): Promise<Response>;
}

/** What plugs in: DPoP's proof check (see sender-constraint.ts). */
export interface OAuthExtensions {
  readonly senderConstraint?: SenderConstraintCheck;
}

export function createOAuthRoutes(deps: OAuthDeps, clientTokens: ClientTokenService, extensions: OAuthExtensions = {}): OAuthRoutes {
  const authorize = createAuthorizeEndpoint(deps);
  // A machine token cannot be revoked (self-contained, short-lived): its own client is told so (RFC 7009 §2.2.1);
  // another client's is treated as unknown, so the endpoint tells no one whether a token exists.
  const revokeOther: RevokeOther = async (token, clientId) => {
    const machine = await clientTokens.check(token);
    if (!machine.ok) return false;
    if (machine.claims.sub !== clientId) return true;
    throw new OAuthError('unsupported_token_type', 'Machine tokens cannot be revoked; they expire after oauth.clientTokenTtlSeconds.');
  };
  const routes = new Map<string, Route>([
    ['/oauth/authorize', { GET: authorize.get, POST: authorize.post }],
    [
      '/oauth/token',
      {
        POST: createTokenEndpoint(deps, {
          clientCredentials: createClientCredentialsGrant(deps, clientTokens),
          ...(extensions.senderConstraint === undefined ? {} : { senderConstraint: extensions.senderConstraint }),
        }),
      },
    ],
    ['/oauth/revoke', { POST: createRevocationEndpoint(deps, { other: revokeOther }) }],
    ['/oauth/introspect', { POST: createIntrospectionEndpoint(deps, clientTokens) }],
    [METADATA_PATH, { GET: createMetadataEndpoint(deps) }],
  ]);

  return {
    async handle(request, client) {
      try {
        const path = new URL(request.url).pathname;
        const route = routes.get(path);
        if (route === undefined) return oauthErrorResponse(new OAuthError('invalid_request', 'Not found.', 404));
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const handler = route[method as 'GET' | 'POST'];
        if (handler === undefined) {
          const response = oauthErrorResponse(new OAuthError('invalid_request', 'This method is not allowed here.', 405));
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
