/**
 * The grants of native apps at `POST /oauth/token`: `authorization_code`
 * (PKCE S256, the code redeemed once across instances, a replayed code
 * revoking the session it opened) and `refresh_token` (the session engine's
 * own rotation, grace window and reuse detection). Both answer with an
 * ordinary Gatehouse session: the same access token as a cookie session,
 * listed among the user's sessions and ended by revoke-all.
 */
import { isGatehouseError } from '../core/errors.js';
import type { ClientContext, IssuedSession } from '../core/auth-service.js';
import type { OAuthClientRecord } from '../store/store.js';
import { openAuthorizationCode } from './authorization-code.js';
import { passwordVersion } from './authorize-endpoint.js';
import type { OAuthDeps } from './oauth-deps.js';
import { OAuthError } from './oauth-error.js';
import { verifierMatches } from './pkce.js';
import { checkRefreshBinding } from '../dpop/token-request.js';
import type { SenderConstraint } from './sender-constraint.js';

/** What the token endpoint turns into a response (RFC 6749 §5.1). */
export interface NativeGrantResult {
  readonly issued: IssuedSession;
  readonly scope: string;
}

const badGrant = (description: string) => new OAuthError('invalid_grant', description);

/** Ends the session a replayed code or a foreign token points at, on every instance. */
export async function revokeGrantedSession(deps: OAuthDeps, sessionId: string, why: string, client: ClientContext): Promise<void> {
  const now = deps.clock.now();
  await deps.store.revokeSession(sessionId, 'revoked', now, { type: 'session_revoked', ip: client.ip, userAgent: client.userAgent, detail: { by: 'oauth', why } });
  deps.revocations.revokeSession(sessionId, now);
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5). With a
 * DPoP proof (`constraint`), the session is bound to its key: the access
 * token carries `cnf.jkt`, and every refresh must prove the same key.
 */
export async function redeemAuthorizationCode(deps: OAuthDeps, form: URLSearchParams, app: OAuthClientRecord, client: ClientContext, constraint: SenderConstraint = null): Promise<NativeGrantResult> {
  const now = deps.clock.now();
  const code = await openAuthorizationCode(form.get('code') ?? '', deps.keys.oauthCode, { clientId: app.id, now });
  // Issued to another client, expired, tampered with: all the same answer.
  if (code === null) throw badGrant('The authorization code is invalid or expired.');
  if (form.get('redirect_uri') !== code.redirectURI) throw badGrant('redirect_uri does not match the authorization request.');
  const verifier = form.get('code_verifier');
  if (verifier === null) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');
  if (!verifierMatches(verifier, code.codeChallenge)) throw badGrant('The code_verifier does not match the code_challenge.');
  // Redeemed atomically: of any number of concurrent or later redemptions, exactly one gets past here.
  if (!(await deps.consumeOnce.consume('oauth-code', code.id, code.expiresAt + 60_000))) {
    // RFC 6749 §4.1.2: a code used twice revokes what it issued (the first redeemer may be the thief).
    const grant = await deps.store.findGrantByCode(code.id);
    if (grant !== null) await revokeGrantedSession(deps, grant.sessionId, 'code_replayed', client);
    throw badGrant('The authorization code was already used; the session it opened has been ended.');
  }
  const user = await deps.store.findUserById(code.userId);
  if (user === null || user.disabled || passwordVersion(user) !== code.passwordVersion) throw badGrant('The account can no longer sign in with this code.');
  let issued: IssuedSession;
  try {
    issued = await deps.auth.loginExternal(user.id, client, { method: 'oauth', client: app.id }, constraint === null ? {} : { jkt: constraint.jkt });
  } catch (error) {
    if (isGatehouseError(error, 'FORBIDDEN')) throw badGrant('The account can no longer sign in.');
    throw error;
  }
  await deps.store.recordGrant({ sessionId: issued.session.id, clientId: app.id, scope: code.scope, codeId: code.id, createdAt: now, jkt: constraint?.jkt ?? null });
  return { issued, scope: code.scope };
}

/**
 * `grant_type=refresh_token` (RFC 6749 §6): only for the client the session
 * was granted to and, for a session bound to a DPoP key, only with a proof of
 * that key (RFC 9449 §5.0), checked before anything rotates.
 */
export async function refreshNativeSession(deps: OAuthDeps, form: URLSearchParams, app: OAuthClientRecord, client: ClientContext, constraint: SenderConstraint = null): Promise<NativeGrantResult> {
  const presented = form.get('refresh_token');
  if (presented === null) throw new OAuthError('invalid_request', 'refresh_token is required.');
  if (form.has('scope')) throw new OAuthError('invalid_scope', 'A refresh keeps the granted scope; omit scope.');
  // Whose token is it? Checked before anything rotates, so another client's attempt changes nothing.
  const session = await deps.auth.sessionForRefreshToken(presented);
  const grant = session === null ? null : await deps.store.findGrant(session.id);
  if (grant === null || grant.clientId !== app.id) throw badGrant('The refresh token is invalid.');
  // A thief holding the refresh token but not the key changes nothing: refused here, the token not rotated.
  checkRefreshBinding(grant.jkt, constraint);
  try {
    return { issued: await deps.auth.refresh(presented, client, grant.jkt === null ? {} : { jkt: grant.jkt }), scope: grant.scope };
  } catch (error) {
    if (isGatehouseError(error, 'REFRESH_TOKEN_REUSED')) throw badGrant('The refresh token was already used; the session has been ended.');
    if (isGatehouseError(error) && error.code.startsWith('REFRESH_TOKEN_')) throw badGrant('The refresh token is invalid, expired or revoked.');
    throw error;
  }
}
