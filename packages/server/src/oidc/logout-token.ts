/**
 * Verification of an OpenID Connect Back-Channel Logout 1.0 logout token,
 * with `jose`: signature by the provider's published keys (asymmetric
 * algorithms it advertises, never `none` or a secret), `iss`, `aud`, `iat`,
 * `jti`, the back-channel logout event, `sid` or `sub`, and no `nonce` (so
 * that an ID token can never be passed off as a logout token).
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { GatehouseError } from '../core/errors.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** How old (by `iat`) a logout token may be; also how long its `jti` is remembered, plus tolerance. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 120;
/** Clock difference tolerated between the provider and Gatehouse. */
export const LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

export interface LogoutClaims {
  readonly jti: string;
  readonly iat: number;
  readonly sid: string | null;
  readonly sub: string | null;
}

export interface LogoutTokenExpectations {
  readonly issuer: string;
  readonly audience: string;
  readonly keys: JWTVerifyGetKey;
  readonly algorithms: readonly string[];
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/**
 * The claims of a valid logout token. Throws `LOGOUT_TOKEN_INVALID` for
 * anything else, or `OIDC_PROVIDER_UNAVAILABLE` when the provider's keys
 * cannot be fetched. The caller checks `jti` for replay.
 */
export async function verifyLogoutToken(token: string, expected: LogoutTokenExpectations): Promise<LogoutClaims> {
  if (expected.algorithms.length === 0) throw new GatehouseError('LOGOUT_TOKEN_INVALID');
  let payload: Record<string, unknown>;
  try {
    const result = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: [...expected.algorithms],
      requiredClaims: ['iat', 'jti', 'events'],
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      clockTolerance: LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(expected.now),
    });
    // The spec recommends `typ: logout+jwt`; one that says something else is another kind of token.
    const typ = result.protectedHeader.typ?.toLowerCase();
    if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'application/logout+jwt') throw invalid('typ');
    payload = result.payload;
  } catch (error) {
    if (error instanceof GatehouseError) throw error;
    if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID')) {
      throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
    }
    if (error instanceof errors.JOSEError) throw invalid(error.code, error);
    // fetching the provider's keys failed
    throw new GatehouseError('OIDC_PROVIDER_UNAVAILABLE', { cause: error });
  }
  const { jti, iat, sid, sub, events } = payload;
  if ('nonce' in payload) throw invalid('nonce');
  if (typeof jti !== 'string' || jti === '' || typeof iat !== 'number') throw invalid('jti');
  const event = events !== null && typeof events === 'object' ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw invalid('events');
  const hasSid = typeof sid === 'string' && sid !== '';
  const hasSub = typeof sub === 'string' && sub !== '';
  if (!hasSid && !hasSub) throw invalid('sid');
  return { jti, iat, sid: hasSid ? sid : null, sub: hasSub ? sub : null };
}

function invalid(reason: string, cause?: unknown): GatehouseError {
  return new GatehouseError('LOGOUT_TOKEN_INVALID', { message: `The logout token is invalid (${reason}).`, cause });
}
