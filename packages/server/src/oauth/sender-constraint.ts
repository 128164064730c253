/**
 * The seam for sender-constrained tokens (DPoP, RFC 9449). Today no request
 * carries a proof Gatehouse checks, so every token is a bearer token. The
 * DPoP work plugs in here and nowhere else on the issuing side: verify the
 * `DPoP` header of the token request (`htm`, `htu`, `iat`, `jti` once,
 * server nonce) and return the key's thumbprint; the token endpoint then
 * answers `token_type: "DPoP"` and puts `cnf.jkt` in machine tokens
 * (`ClientTokenService.issue({ cnf })`), and the guard requires a proof for
 * any token that carries `cnf`.
 */

/** The key a token is bound to, or null for a bearer token. */
export type SenderConstraint = { readonly jkt: string } | null;

/** Checks a token request's proof of possession. Throws `OAuthError('invalid_dpop_proof'…)` style refusals when one is present but bad. */
export type SenderConstraintCheck = (request: Request) => Promise<SenderConstraint>;

/** No proofs are checked yet: every token is a bearer token. */
export const bearerOnly: SenderConstraintCheck = async () => null;

/** The `token_type` a token response names for a constraint. */
export function tokenTypeOf(constraint: SenderConstraint): 'Bearer' | 'DPoP' {
  return constraint === null ? 'Bearer' : 'DPoP';
}
