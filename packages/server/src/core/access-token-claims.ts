import type { Clock } from './clock.js';

// What an access token says, and the strict reading of it: every claim type-checked, no field taken on trust.

/** The claims of a Gatehouse access token, as verified. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  /** The user id. */
  readonly sub: string;
  /** The session id: the HTTP layer must still check the session is live. */
  readonly sid: string;
  readonly jti: string;
  /** Issued at, in seconds since the epoch. */
  readonly iat: number;
  /** Expires at, in seconds since the epoch. */
  readonly exp: number;
  readonly roles: readonly string[];
  /** Sent on the wire as `preferred_username` (the OIDC claim name). */
  readonly username: string;
  /**
   * The key the token is bound to (RFC 9449 §6.1): the JWK SHA-256 thumbprint
   * of the client's DPoP key. A token with `cnf` is good only with a proof
   * signed by that key; the guard refuses it as `Bearer` or in a cookie.
   */
  readonly cnf?: { readonly jkt: string };
  /**
   * Sent as `uv`: the version of the user (bumped by every change to roles,
   * password or status) that `roles` were read from, so the revocation list can
   * tell a token from before a change without comparing times. A token without
   * `uv` (minted before it existed) reads as -1: older than any change.
   */
  readonly userVersion: number;
}

/** How access tokens are issued and checked. */
export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Lifetime in whole seconds. */
  readonly ttlSeconds: number;
  /** Allowed clock skew in whole seconds, applied to `exp`, `nbf` and `iat`. */
  readonly clockToleranceSeconds: number;
}

/**
 * Type-checks the payload, copying only known fields (no prototype tricks).
 * Times must be whole seconds, `iat` not in the future, and the token may
 * not live longer than this service issues tokens for (plus the leeway):
 * that bounds `exp` too, so no absurd value reaches the rest of the server.
 */
export function readAccessTokenClaims(payload: unknown, options: AccessTokenOptions, clock: Clock): AccessTokenClaims | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { iss, aud, sub, sid, jti, iat, exp, nbf, roles, preferred_username: username, cnf, uv } = payload as Record<string, unknown>;
  const { issuer, audience, ttlSeconds, clockToleranceSeconds } = options;
  if (iss !== issuer || aud !== audience) return null; // aud must not be an array
  if (!isNonEmptyString(sub) || !isNonEmptyString(sid) || !isNonEmptyString(jti)) return null;
  if (!isSeconds(iat) || !isSeconds(exp) || exp <= iat || exp - iat > ttlSeconds + clockToleranceSeconds) return null;
  const latest = clock.now() / 1000 + clockToleranceSeconds;
  // A token "issued" (or valid only) in the future was not issued by this clock.
  if (iat > latest || (nbf !== undefined && (!isSeconds(nbf) || nbf > latest))) return null;
  if (!isStringArray(roles) || typeof username !== 'string') return null;
  if (uv !== undefined && !isUserVersion(uv)) return null;
  const claims = { iss: issuer, aud: audience, sub, sid, jti, iat, exp, roles: Object.freeze([...roles]), username, userVersion: uv ?? -1 };
  if (cnf === undefined) return Object.freeze(claims);
  // A confirmation we cannot check (no jkt, another kind of key binding) is never ignored: the token is refused.
  const jkt = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) && Object.keys(cnf).length === 1 ? (cnf as Record<string, unknown>).jkt : undefined;
  if (!isThumbprint(jkt)) return null;
  return Object.freeze({ ...claims, cnf: Object.freeze({ jkt }) });
}

/** A JWK SHA-256 thumbprint (RFC 7638) in base64url: 43 characters. */
export function isThumbprint(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A NumericDate as this service issues them: whole seconds, not before 1970, not past 2^53. */
export function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A user version as issued: a whole number, zero or more. */
export function isUserVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
