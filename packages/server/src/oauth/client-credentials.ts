/**
 * `grant_type=client_credentials` (RFC 6749 §4.4) for machine clients that
 * authenticated with `client_secret_basic` or `private_key_jwt`: a token of
 * the machine kind, with the scopes asked for (all the client's when none
 * are), never a refresh token. Also what RFC 7009 revocation does with a
 * machine token: nothing it could do (they are self-contained and short-lived).
 */
import { SCOPE_TOKEN } from './client-registry.js';
import type { ClientTokenService } from './client-token.js';
import type { OAuthDeps } from './oauth-deps.js';
import { OAuthError, oauthJSON } from './oauth-error.js';
import { tokenTypeOf } from './sender-constraint.js';
import type { ExtraGrant } from './token-endpoint.js';

export function createClientCredentialsGrant(deps: OAuthDeps, clientTokens: ClientTokenService): ExtraGrant {
  return async (form, caller, constraint, client) => {
    if (caller.method === 'none') throw new OAuthError('invalid_client', 'Client authentication failed.');
    const allowed = caller.client.scopes;
    const asked = form.get('scope');
    const requested = asked === null ? [...allowed] : asked.split(' ').filter((s) => s !== '');
    for (const scope of requested) {
      if (!SCOPE_TOKEN.test(scope) || !allowed.includes(scope)) throw new OAuthError('invalid_scope', 'A requested scope is not allowed for this client.');
    }
    const scopes = [...new Set(requested)];
    const { token, claims } = await clientTokens.issue({ clientId: caller.client.id, scopes, jkt: constraint?.jkt ?? null });
    // Audited (logged and stored), never the token: who got what. A store that cannot record it fails the request.
    await deps.audit({ at: deps.clock.now(), type: 'client_token_issued', ip: client.ip, userAgent: client.userAgent, detail: { client: caller.client.id, scope: scopes.join(' '), jti: claims.jti } });
    return oauthJSON(200, { access_token: token, token_type: tokenTypeOf(constraint), expires_in: claims.exp - claims.iat, scope: scopes.join(' ') });
  };
}
