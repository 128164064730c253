/**
 * `POST /oauth/revoke` (RFC 7009): a native app ends its session by its
 * refresh token or its access token. Only the client the session was granted
 * to can end it; anything else (an unknown token, another client's token)
 * is answered 200 like success and changes nothing, so the endpoint tells no
 * one whether a token exists.
 */
import { readFormBody } from '../oidc/form-body.js';
import { authenticateClient } from './client-authentication.js';
import type { OAuthDeps, OAuthHandler } from './oauth-deps.js';
import { OAuthError, oauthJSON } from './oauth-error.js';

/** Decides what `token` is (a machine token, say) before the session look-ups; returns true when it handled it. */
export type RevokeOther = (token: string, clientId: string) => Promise<boolean>;

export function createRevocationEndpoint(deps: OAuthDeps, options: { readonly other?: RevokeOther } = {}): OAuthHandler {
  /** The session `token` belongs to, as a refresh token or as a user access token; or null. */
  const sessionOf = async (token: string): Promise<string | null> => {
    const bySession = await deps.auth.sessionForRefreshToken(token);
    if (bySession !== null) return bySession.id;
    const verified = await deps.tokens.verify(token);
    // An expired access token still names its session: revoking through it is harmless and expected.
    return verified.ok ? verified.claims.sid : null;
  };

  return async (request, client) => {
    const form = await readFormBody(request, { limitBytes: deps.config.bodyLimitBytes });
    const caller = await authenticateClient(deps, request, form);
    const token = form.get('token');
    if (token === null || token === '' || form.getAll('token').length > 1) throw new OAuthError('invalid_request', 'token is required.');
    if (options.other !== undefined && (await options.other(token, caller.client.id))) return oauthJSON(200, {});
    const sessionId = token.length > 4096 ? null : await sessionOf(token);
    const grant = sessionId === null ? null : await deps.store.findGrant(sessionId);
    if (grant !== null && grant.clientId === caller.client.id) await deps.auth.logout(grant.sessionId, client);
    return oauthJSON(200, {});
  };
}
