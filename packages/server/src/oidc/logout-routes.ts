/**
 * Ending sessions together with the provider: `POST /auth/oidc/logout`
 * (RP-initiated logout: Gatehouse's session ends, and the browser is sent to
 * the provider's end-session endpoint) and `POST /auth/oidc/<id>/backchannel-logout`
 * (the provider tells Gatehouse that its session ended: OpenID Connect
 * Back-Channel Logout 1.0).
 */
import { GatehouseError } from '../core/errors.js';
import { jsonResponse } from '../http/responses.js';
import { readFormBody } from './form-body.js';
import { LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS, LOGOUT_TOKEN_MAX_AGE_SECONDS, verifyLogoutToken } from './logout-token.js';
import type { Handler, OIDCDeps } from './oidc-deps.js';
import type { ProviderClient } from './provider-client.js';
import type { ProviderTokenVault } from './provider-tokens.js';

export interface LogoutRoutesDeps extends OIDCDeps {
  readonly clients: ReadonlyMap<string, ProviderClient>;
  readonly vault: ProviderTokenVault;
}

export function createLogoutRoutes(deps: LogoutRoutesDeps): { logout: Handler; backchannel: Handler } {
  const { clock, auth, store } = deps;

  /**
   * Ends this session and answers where to send the browser next: the
   * provider's end-session URL (with `id_token_hint` and
   * `post_logout_redirect_uri`) for a session opened through one, else null.
   * A provider that cannot be reached does not keep the session alive.
   */
  const logout: Handler = async (request, client) => {
    const outcome = await deps.guard(request, client);
    if (!outcome.ok) throw Object.assign(outcome.error, { setCookies: outcome.setCookies });
    if (outcome.auth === null) throw new GatehouseError('UNAUTHENTICATED');
    const { sessionId } = outcome.auth;
    let redirectTo: string | null = null;
    const held = await deps.vault.tokensOf(sessionId);
    const provider = held === null ? undefined : deps.clients.get(held.providerId);
    if (held !== null && provider !== undefined) {
      try {
        redirectTo = (await provider.endSessionURL(held.tokens.idToken))?.href ?? null;
      } catch (error) {
        deps.logger.warn({ err: error, provider: held.providerId }, 'the provider cannot be reached for logout; ending the Gatehouse session only');
      }
    }
    await auth.logout(sessionId, client);
    return jsonResponse(200, { redirectTo }, { headers: { 'clear-site-data': '"cookies"' }, cookies: deps.cookies.clearSession() });
  };

  /**
   * Verifies the logout token, refuses a `jti` seen before (on any
   * instance), then ends every Gatehouse session of that provider session
   * through the store and the revocation list, so every instance refuses
   * their access tokens at once.
   */
  const backchannel: Handler = async (request, client, id) => {
    const provider = deps.clients.get(id);
    if (provider === undefined) throw new GatehouseError('NOT_FOUND');
    const form = await readFormBody(request, { limitBytes: deps.config.bodyLimitBytes });
    const token = form.getAll('logout_token');
    if (token.length !== 1 || token[0] === undefined || token[0] === '') throw new GatehouseError('LOGOUT_TOKEN_INVALID', { message: 'logout_token is required.' });
    const { issuer, jwks, algorithms } = await provider.signingKeys();
    const now = clock.now();
    const claims = await verifyLogoutToken(token[0], { issuer, audience: provider.config.clientId, keys: jwks, algorithms, now });
    // Remembered for as long as the token could still be accepted for its age.
    const rememberUntil = (claims.iat + LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000;
    if (!(await deps.once.consume('logout-token', `${issuer} ${claims.jti}`, Math.max(rememberUntil, now + 1000)))) {
      throw new GatehouseError('LOGOUT_TOKEN_REPLAYED');
    }
    // One audit event per ended session, committed with it.
    const ids = await store.revokeProviderSessions(
      { issuer, ...(claims.sid === null ? {} : { sid: claims.sid }), ...(claims.sub === null ? {} : { subject: claims.sub }) },
      'provider_logout',
      now,
      { type: 'provider_logout', ip: client.ip, userAgent: null, detail: { provider: id } },
    );
    for (const sessionId of ids) deps.revocations.revokeSession(sessionId, now);
    deps.logger.info({ audit: 'provider_logout', provider: id, sessions: ids.length }, 'audit');
    return jsonResponse(200, null);
  };

  return { logout, backchannel };
}
