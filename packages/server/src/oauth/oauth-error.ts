/**
 * Errors of the OAuth endpoints in the shape RFC 6749 §5.2 prescribes
 * (`{"error":"invalid_grant","error_description":"…"}`), which standard
 * clients parse. The codes are the RFC's own (a closed list here); Gatehouse's
 * `{"error":{"code","message"}}` shape stays on `/auth`.
 */
import { isGatehouseError } from '../core/errors.js';
import { tokenEndpointRefusal } from '../dpop/challenge.js';
import { SECURITY_HEADERS } from '../http/responses.js';

/** The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1, and `temporarily_unavailable` for a store outage. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'server_error'
  | 'temporarily_unavailable';

const STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** A refusal by an OAuth endpoint; `description` is safe to show (it never names a secret or a token). */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly status: number;

  /** `status` overrides the RFC's status for the code: 404 and 405 for paths and methods the server does not have. */
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    status?: number,
  ) {
    super(description);
    this.status = status ?? STATUS[error];
  }
}

/** JSON with the security headers, `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1). */
export function oauthJSON(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Response {
  const h = new Headers(SECURITY_HEADERS);
  h.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  h.set('cache-control', 'no-store');
  h.set('pragma', 'no-cache');
  h.set('content-type', 'application/json; charset=utf-8');
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * The wire form of any failure at an OAuth endpoint. A store or Redis outage
 * is `temporarily_unavailable` (503); anything unexpected is `server_error`
 * with no detail. `invalid_client` carries `WWW-Authenticate` (RFC 6749 §5.2).
 */
export function oauthErrorResponse(error: unknown): Response {
  if (error instanceof OAuthError) {
    const headers: Record<string, string> = error.error === 'invalid_client' ? { 'www-authenticate': 'Basic realm="gatehouse"' } : {};
    return oauthJSON(error.status, { error: error.error, error_description: error.description }, headers);
  }
  // A refused DPoP proof (RFC 9449 §5, §8): 400 invalid_dpop_proof or use_dpop_nonce (with DPoP-Nonce), Gatehouse's code beside it.
  if (isGatehouseError(error) && error.code.startsWith('DPOP_')) {
    const refusal = tokenEndpointRefusal(error);
    return oauthJSON(refusal.status, refusal.body, refusal.headers);
  }
  if (isGatehouseError(error) && error.status === 503) {
    return oauthJSON(503, { error: 'temporarily_unavailable', error_description: 'Try again shortly.' }, error.headers);
  }
  if (isGatehouseError(error) && error.code === 'PAYLOAD_TOO_LARGE') {
    // Its Connection: close goes along: the rest of the body was never read.
    return oauthJSON(413, { error: 'invalid_request', error_description: 'The request body is too large.' }, error.headers);
  }
  if (isGatehouseError(error) && error.expose) return oauthJSON(400, { error: 'invalid_request', error_description: error.message });
  return oauthJSON(500, { error: 'server_error', error_description: 'Something went wrong.' });
}
