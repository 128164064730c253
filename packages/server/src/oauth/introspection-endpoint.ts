/**
 * `POST /oauth/introspect` (RFC 7662) for resource servers that cannot
 * verify JWTs themselves. The caller must be a machine client
 * (`client_secret_basic` or `private_key_jwt`) registered with the scope
 * {@link INTROSPECTION_SCOPE}: not every batch job may read what a token
 * says about its user (RFC 7662 §4). A user's access token is
 * active only while its session is (the same revocation list the guard
 * reads); a machine token only while its client is still registered.
 * Refresh tokens and anything else are `{"active": false}`.
 */
import { readFormBody } from '../oidc/form-body.js';
import { clientRevocationSubject } from '../store/oauth-client-store.js';
import { authenticateClient } from './client-authentication.js';
import type { ClientTokenService } from './client-token.js';
import type { OAuthDeps, OAuthHandler } from './oauth-deps.js';
import { OAuthError, oauthJSON } from './oauth-error.js';

const INACTIVE = Object.freeze({ active: false });

/** The scope a machine client must be registered with to call introspection. */
export const INTROSPECTION_SCOPE = 'introspect';

export function createIntrospectionEndpoint(deps: OAuthDeps, clientTokens: ClientTokenService): OAuthHandler {
  const describe = async (token: string): Promise<Record<string, unknown>> => {
    const user = await deps.tokens.verify(token);
    if (user.ok) {
      const { claims } = user;
      if (deps.revocations.check(claims.sid, claims.sub, claims.userVersion) !== null) return INACTIVE;
      const grant = await deps.store.findGrant(claims.sid);
      return {
        active: true,
        token_type: 'Bearer',
        iss: claims.iss,
        aud: claims.aud,
        sub: claims.sub,
        username: claims.username,
        sid: claims.sid,
        iat: claims.iat,
        exp: claims.exp,
        jti: claims.jti,
        ...(grant === null ? {} : { client_id: grant.clientId, scope: grant.scope }),
      };
    }
    const machine = await clientTokens.check(token);
    if (!machine.ok) return INACTIVE;
    const { claims } = machine;
    if (deps.revocations.check('', clientRevocationSubject(claims.sub), claims.iat) !== null) return INACTIVE;
    if ((await deps.store.findClient(claims.sub)) === null) return INACTIVE;
    return {
      active: true,
      token_type: claims.jkt === null ? 'Bearer' : 'DPoP',
      iss: claims.iss,
      aud: claims.aud,
      sub: claims.sub,
      client_id: claims.sub,
      scope: claims.scopes.join(' '),
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
      ...(claims.jkt === null ? {} : { cnf: { jkt: claims.jkt } }),
    };
  };

  return async (request) => {
    const form = await readFormBody(request, { limitBytes: deps.config.bodyLimitBytes });
    const caller = await authenticateClient(deps, request, form);
    if (caller.method === 'none') throw new OAuthError('invalid_client', 'Introspection is for authenticated machine clients.');
    if (!caller.client.scopes.includes(INTROSPECTION_SCOPE)) {
      throw new OAuthError('unauthorized_client', `This client may not introspect tokens (register it with the scope ${INTROSPECTION_SCOPE}).`, 403);
    }
    const token = form.get('token');
    if (token === null || token === '' || form.getAll('token').length > 1) throw new OAuthError('invalid_request', 'token is required.');
    return oauthJSON(200, token.length > 4096 ? INACTIVE : await describe(token));
  };
}
