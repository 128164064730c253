/**
 * Sender-constrained tokens (DPoP, RFC 9449) at the token endpoint: the
 * `DPoP` header of the token request is verified (`src/dpop/token-request.ts`)
 * and yields the key's thumbprint; the endpoint then answers
 * `token_type: "DPoP"`, binds the access token (`cnf.jkt`) and, for a native
 * app, the session's refresh tokens to that key. The guard requires a proof
 * for any token that carries `cnf`.
 */

/** The key a token is bound to, or null for a bearer token. */
export type SenderConstraint = { readonly jkt: string } | null;

/** Checks a token request's proof of possession. Throws `OAuthError('invalid_dpop_proof'…)` style refusals when one is present but bad. */
export type SenderConstraintCheck = (request: Request) => Promise<SenderConstraint>;


/** The `token_type` a token response names for a constraint. */
export function tokenTypeOf(constraint: SenderConstraint): 'Bearer' | 'DPoP' {
  return constraint === null ? 'Bearer' : 'DPoP';
}
