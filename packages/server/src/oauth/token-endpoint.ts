/**
 * `POST /oauth/token` (RFC 6749 §3.2): authenticates the client, dispatches
 * on `grant_type` to the grants this server offers and nothing else (no
 * password grant, no implicit), and answers in the RFC 6749 §5 shape with
 * `Cache-Control: no-store`.
 */
import type { ClientContext } from '../core/auth-service.js';
import { readFormBody } from '../oidc/form-body.js';
import { authenticateClient, type AuthenticatedClient } from './client-authentication.js';
import { refreshNativeSession, redeemAuthorizationCode, type NativeGrantResult } from './native-grants.js';
import type { OAuthDeps, OAuthHandler } from './oauth-deps.js';
import { OAuthError, oauthJSON } from './oauth-error.js';
import { tokenRequestBinding } from '../dpop/token-request.js';
import { tokenTypeOf, type SenderConstraint, type SenderConstraintCheck } from './sender-constraint.js';

/** A grant other than the native ones: `client_credentials`, added by the machine-client module. */
export type ExtraGrant = (form: URLSearchParams, caller: AuthenticatedClient, constraint: SenderConstraint, client: ClientContext) => Promise<Response>;

/** The grants a client of each type may use: a native app never gets client credentials, a machine never a code. */
const GRANTS_OF = { native: ['authorization_code', 'refresh_token'], machine: ['client_credentials'] } as const;

export function createTokenEndpoint(deps: OAuthDeps, options: { readonly clientCredentials?: ExtraGrant; readonly senderConstraint?: SenderConstraintCheck } = {}): OAuthHandler {
  const checkProof = options.senderConstraint ?? tokenRequestBinding(deps.dpop, deps.config.publicOrigin);

  const sessionResponse = (result: NativeGrantResult, constraint: SenderConstraint): Response => {
    const { issued, scope } = result;
    return oauthJSON(200, {
      access_token: issued.accessToken,
      token_type: tokenTypeOf(constraint),
      expires_in: Math.max(1, Math.floor((issued.accessTokenExpiresAt - deps.clock.now()) / 1000)),
      refresh_token: issued.refreshToken,
      scope,
    });
  };

  return async (request, client) => {
    const form = await readFormBody(request, { limitBytes: deps.config.bodyLimitBytes });
    for (const name of ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'client_id']) {
      if (form.getAll(name).length > 1) throw new OAuthError('invalid_request', `The parameter ${name} is repeated.`);
    }
    const grantType = form.get('grant_type');
    if (grantType === null) throw new OAuthError('invalid_request', 'grant_type is required.');
    if (!['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType)) {
      throw new OAuthError('unsupported_grant_type', 'Supported: authorization_code, refresh_token, client_credentials.');
    }
    const caller = await authenticateClient(deps, request, form);
    if (!(GRANTS_OF[caller.client.type] as readonly string[]).includes(grantType)) {
      throw new OAuthError('unauthorized_client', `A ${caller.client.type} client cannot use ${grantType}.`);
    }
    // The DPoP proof (see sender-constraint.ts) is checked before any grant is spent.
    const constraint = await checkProof(request);
    switch (grantType) {
      case 'authorization_code':
        return sessionResponse(await redeemAuthorizationCode(deps, form, caller.client, client, constraint), constraint);
      case 'refresh_token':
        return sessionResponse(await refreshNativeSession(deps, form, caller.client, client, constraint), constraint);
      default:
        if (options.clientCredentials === undefined) throw new OAuthError('unsupported_grant_type', 'client_credentials is not available.');
        return options.clientCredentials(form, caller, constraint, client);
    }
  };
}
