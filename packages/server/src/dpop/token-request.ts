/**
 * DPoP at the token endpoint (RFC 9449 §5): a token request that carries a
 * proof gets tokens bound to the proof's key. The proof names the token
 * endpoint on Gatehouse's own public origin (`htu`), `POST` (`htm`), and no
 * access token (`ath` is not asked for); its `jti` is consumed like any other.
 */
import { GatehouseError } from '../core/errors.js';
import type { DPoPProofs } from './proofs.js';

/** The key a token request proved, or null for a request without a proof (a bearer token). */
export type TokenRequestBinding = { readonly jkt: string } | null;

/**
 * Checks the `DPoP` header of a token request. Without one, the answer is
 * null: the client asked for bearer tokens. With one, the proof must be
 * valid for this request or the request is refused (a `DPOP_…`
 * `GatehouseError`, answered as OAuth's 400 `invalid_dpop_proof` or
 * `use_dpop_nonce`): a bad proof never silently yields a bearer token.
 *
 * @example
 * ```ts
 * const binding = await tokenRequestBinding(gatehouse.dpop, config.publicOrigin)(request);
 * ```
 */
export function tokenRequestBinding(dpop: DPoPProofs, publicOrigin: string): (request: Request) => Promise<TokenRequestBinding> {
  const origins = [publicOrigin];
  return async (request) => {
    const proof = request.headers.get('dpop');
    if (proof === null) return null;
    const { jkt } = await dpop.verify({ method: request.method, target: request.url, proof }, { origins });
    return { jkt };
  };
}

/**
 * Whether a refresh of a session bound to `bound` (null: a bearer session)
 * may go ahead with what the request proved. A bound session needs a proof
 * of the same key, before anything rotates; a bearer session is not turned
 * into a bound one halfway.
 *
 * @throws GatehouseError `DPOP_PROOF_MISSING`, `DPOP_KEY_MISMATCH` or `DPOP_TOKEN_NOT_BOUND`.
 */
export function checkRefreshBinding(bound: string | null, proved: TokenRequestBinding): void {
  if (bound === null) {
    if (proved !== null) throw new GatehouseError('DPOP_TOKEN_NOT_BOUND', { message: 'This refresh token is not bound to a key: refresh it without a DPoP proof.' });
    return;
  }
  if (proved === null) throw new GatehouseError('DPOP_PROOF_MISSING', { message: 'This refresh token is bound to a key: refresh it with a DPoP proof of that key.' });
  if (proved.jkt !== bound) throw new GatehouseError('DPOP_KEY_MISMATCH', { message: 'The DPoP proof is signed with another key than the refresh token is bound to.' });
}
