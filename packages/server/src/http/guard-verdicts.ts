import type { AccessTokenClaims } from '../core/access-token.js';
import { GatehouseError } from '../core/errors.js';
import type { ClientTokenClaims } from '../oauth/client-token.js';
import type { Auth, GuardOutcome } from './guard-types.js';

// The pieces every guard verdict is built from, shared frozen so a verdict allocates only itself.

export const NO_COOKIES: readonly string[] = Object.freeze([]);
const NO_SCOPES: readonly string[] = Object.freeze([]);

/** A refusal with the error for `code`. */
export function fail(code: GatehouseError['code'], setCookies: readonly string[] = NO_COOKIES): GuardOutcome {
  return { ok: false, error: new GatehouseError(code), setCookies };
}

/** The identity a user's access token stands for. */
export function toAuth(claims: AccessTokenClaims, via: Auth['via']): Auth {
  return {
    user: { id: claims.sub, username: claims.username, roles: claims.roles },
    sessionId: claims.sid,
    tokenId: claims.jti,
    expiresAt: claims.exp * 1000,
    via,
    client: null,
    scopes: NO_SCOPES,
    userVersion: claims.userVersion,
  };
}

/** The identity a machine client's token stands for: `client:<id>`, no roles, no session. */
export function toClientAuth(claims: ClientTokenClaims, via: 'bearer' | 'dpop' = 'bearer'): Auth {
  return {
    user: { id: `client:${claims.sub}`, username: `client:${claims.sub}`, roles: NO_SCOPES },
    sessionId: '',
    tokenId: claims.jti,
    expiresAt: claims.exp * 1000,
    via,
    client: claims.sub,
    scopes: claims.scopes,
    userVersion: -1,
  };
}
