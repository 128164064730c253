/**
 * How DPoP refusals are told to the client: on a resource as a 401 with a
 * `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1), at the token endpoint
 * as OAuth's 400 `invalid_dpop_proof` or `use_dpop_nonce` (§5, §8). The
 * Gatehouse code (one per cause) travels in the JSON body either way.
 */
import { GatehouseError, type ErrorCode } from '../core/errors.js';

/** Codes that say the access token itself is at fault, not the proof: `error="invalid_token"`. */
const TOKEN_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'SESSION_REVOKED',
  'DPOP_TOKEN_NOT_BOUND',
  'DPOP_TOKEN_WITHOUT_PROOF',
  'DPOP_KEY_MISMATCH',
]);

/** The OAuth `error` of a refusal: `use_dpop_nonce`, `invalid_token` or `invalid_dpop_proof`. */
export function oauthErrorOf(code: ErrorCode): 'use_dpop_nonce' | 'invalid_token' | 'invalid_dpop_proof' {
  if (code === 'DPOP_NONCE_REQUIRED') return 'use_dpop_nonce';
  return TOKEN_FAULTS.has(code) ? 'invalid_token' : 'invalid_dpop_proof';
}

/**
 * `error` as a resource server answers it: the same code and body, plus the
 * `WWW-Authenticate: DPoP` challenge naming the accepted algorithms (and a
 * `DPoP-Nonce` the error already carries). 5xx errors (the replay check
 * unavailable) are left as they are: they are not the client's fault.
 */
export function resourceRefusal(error: GatehouseError, algorithms: readonly string[]): GatehouseError {
  if (error.status >= 500) return error;
  const challenge = `DPoP error="${oauthErrorOf(error.code)}", algs="${algorithms.join(' ')}"`;
  return new GatehouseError(error.code, { headers: { ...error.headers, 'www-authenticate': challenge } });
}

/**
 * What a token endpoint answers for a refused proof (RFC 9449 §5, §8): status
 * 400, an OAuth error body that also carries Gatehouse's code, and the headers
 * (a fresh `DPoP-Nonce` for `use_dpop_nonce`). 5xx errors keep their status.
 *
 * @example
 * ```ts
 * const { status, body, headers } = tokenEndpointRefusal(error);
 * return jsonResponse(status, body, { headers });
 * ```
 */
export function tokenEndpointRefusal(error: GatehouseError): {
  readonly status: number;
  readonly body: { readonly error: string; readonly error_description: string; readonly code: ErrorCode };
  readonly headers: Readonly<Record<string, string>>;
} {
  if (error.status >= 500) {
    return { status: error.status, body: { error: 'temporarily_unavailable', error_description: new GatehouseError(error.code).message, code: error.code }, headers: error.headers };
  }
  const oauthError = error.code === 'DPOP_NONCE_REQUIRED' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
  return { status: 400, body: { error: oauthError, error_description: error.message, code: error.code }, headers: error.headers };
}
