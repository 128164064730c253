/**
 * Every failure Gatehouse reports carries one of these codes. The table is the
 * single source of truth for the HTTP status and for whether the message may be
 * shown to the caller: clients and tests match on `code`, never on message text.
 */
export const ERRORS = {
  // 400
  MALFORMED_REQUEST: { status: 400, message: 'The request could not be parsed.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  VALIDATION_FAILED: { status: 400, message: 'The request body does not match the expected shape.' },
  PASSWORD_POLICY: { status: 400, message: 'The password does not meet the password policy.' },
  USERNAME_INVALID: { status: 400, message: 'The username is not acceptable.' },
  /** A proxied path with a trick in it (dot segments, encoded slashes or dots, `\`, `//`): refused, never normalised. */
  PATH_REJECTED: { status: 400, message: 'The request path is not acceptable.' },
  OIDC_TRANSACTION_INVALID: { status: 400, message: 'The sign-in attempt is missing, expired, already used or for another provider. Start again.' },
  LOGOUT_TOKEN_INVALID: { status: 400, message: 'The logout token is invalid.' },
  LOGOUT_TOKEN_REPLAYED: { status: 400, message: 'The logout token was already used.' },
  ROLE_INVALID: { status: 400, message: 'A role name is not acceptable.' },
  // 401
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  INVALID_CREDENTIALS: { status: 401, message: 'The username or password is incorrect.' },
  TOKEN_INVALID: { status: 401, message: 'The access token is invalid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The access token has expired.' },
  SESSION_REVOKED: { status: 401, message: 'The session has ended.' },
  REFRESH_TOKEN_INVALID: { status: 401, message: 'The refresh token is missing, unknown or expired.' },
  REFRESH_TOKEN_REVOKED: { status: 401, message: 'The session was ended; sign in again.' },
  REFRESH_TOKEN_REUSED: { status: 401, message: 'The refresh token was already used; the session has been revoked.' },
  INVALID_AUTHORIZATION: { status: 401, message: 'The Authorization header is not a Bearer or DPoP token.' },
  // 401: DPoP (RFC 9449) proofs, one code per cause. On resources they come with `WWW-Authenticate: DPoP error="invalid_dpop_proof"`
  // (`invalid_token` for the token's own faults, `use_dpop_nonce` for a nonce); the token endpoint answers them as OAuth's 400 `invalid_dpop_proof`.
  DPOP_PROOF_MISSING: { status: 401, message: 'A DPoP proof is required (one DPoP header).' },
  DPOP_PROOF_MALFORMED: { status: 401, message: 'The DPoP proof is not a well-formed dpop+jwt with the required claims.' },
  DPOP_ALGORITHM_REFUSED: { status: 401, message: 'The DPoP proof\'s alg is not an accepted asymmetric algorithm.' },
  DPOP_KEY_INVALID: { status: 401, message: 'The DPoP proof\'s jwk header is not a public key for its alg.' },
  DPOP_SIGNATURE_INVALID: { status: 401, message: 'The DPoP proof\'s signature does not verify with its jwk.' },
  DPOP_METHOD_MISMATCH: { status: 401, message: 'The DPoP proof is for another HTTP method (htm).' },
  DPOP_URL_MISMATCH: { status: 401, message: 'The DPoP proof is for another URL (htu).' },
  DPOP_PROOF_EXPIRED: { status: 401, message: 'The DPoP proof\'s iat is outside the accepted window.' },
  DPOP_PROOF_REPLAYED: { status: 401, message: 'The DPoP proof was already used (jti).' },
  DPOP_ATH_MISMATCH: { status: 401, message: 'The DPoP proof\'s ath is missing or is not the hash of this access token.' },
  DPOP_NONCE_REQUIRED: { status: 401, message: 'The DPoP proof must carry the server\'s current nonce (see the DPoP-Nonce header).' },
  DPOP_KEY_MISMATCH: { status: 401, message: 'The DPoP proof is signed with another key than the token is bound to.' },
  /** A DPoP-bound access token (`cnf.jkt`) sent as `Bearer` or in a cookie: without its proof it is worth nothing. */
  DPOP_TOKEN_WITHOUT_PROOF: { status: 401, message: 'This access token is bound to a key: send it as Authorization: DPoP with a proof.' },
  /** `Authorization: DPoP` with an access token that is not bound to a key. */
  DPOP_TOKEN_NOT_BOUND: { status: 401, message: 'This access token is not bound to a key: send it as a Bearer token.' },
  // 401: HTTP Message Signatures (RFC 9421); none of these ever names a key's secret
  SIGNATURE_MISSING: { status: 401, message: 'The request is not signed (no Signature and Signature-Input headers).' },
  SIGNATURE_MALFORMED: { status: 401, message: 'The Signature or Signature-Input header cannot be parsed.' },
  SIGNATURE_INVALID: { status: 401, message: 'The request signature does not verify.' },
  SIGNATURE_EXPIRED: { status: 401, message: 'The request signature has expired or is not yet valid.' },
  SIGNATURE_REPLAYED: { status: 401, message: 'The request signature\'s nonce was already used.' },
  SIGNATURE_KEY_UNKNOWN: { status: 401, message: 'The request is signed with an unknown key.' },
  SIGNATURE_ALGORITHM_MISMATCH: { status: 401, message: 'The signature\'s alg is not the algorithm of its key.' },
  SIGNATURE_COMPONENT_MISSING: { status: 401, message: 'The request signature does not cover every required component and parameter.' },
  SIGNATURE_DIGEST_MISMATCH: { status: 401, message: 'The request body does not match its Content-Digest.' },
  OIDC_CALLBACK_REJECTED: { status: 401, message: 'The identity provider\'s answer failed verification.' },
  OIDC_PROVIDER_DENIED: { status: 401, message: 'The identity provider did not sign you in.' },
  LOGIN_APP_TOKEN_INVALID: { status: 401, message: 'The login token is invalid.' },
  TOKEN_REPLAYED: { status: 401, message: 'The token was already used.' },
  // 401: partner keys (never says whether a key existed, expired or was revoked)
  PARTNER_KEY_MISSING: { status: 401, message: 'This API needs a partner key (X-Gatehouse-Key).' },
  PARTNER_KEY_INVALID: { status: 401, message: 'The partner key is unknown, expired or revoked.' },
  // 403
  CSRF_REJECTED: { status: 403, message: 'The request failed the CSRF check.' },
  ORIGIN_REJECTED: { status: 403, message: 'The request did not come from a trusted origin.' },
  FORBIDDEN: { status: 403, message: 'You do not have permission to do this.' },
  /** A route with `requireScope`: the token is not a machine client's carrying every required scope. */
  INSUFFICIENT_SCOPE: { status: 403, message: 'The token does not carry the scopes this route requires.' },
  /** The gateway's decision endpoint answers only the proxies listed in `trustProxy`. */
  PROXY_UNTRUSTED: { status: 403, message: 'This endpoint answers trusted proxies only.' },
  /** A publishable partner key from an origin the partner did not register, or with no Origin at all. */
  PARTNER_ORIGIN_REJECTED: { status: 403, message: 'This partner key is not valid on this origin.' },
  /** A secret partner key sent by a browser page: it has leaked and must be rotated. */
  PARTNER_SECRET_KEY_IN_BROWSER: { status: 403, message: 'A secret partner key was sent from a browser. Rotate it and use the publishable key in pages.' },
  PARTNER_CSRF_REJECTED: { status: 403, message: 'The request failed the partner CSRF check.' },
  PARTNER_SCOPE_MISSING: { status: 403, message: 'The partner key does not grant this.' },
  OIDC_ACCOUNT_NOT_LINKED: { status: 403, message: 'This identity is not linked to an account. Sign in with your password and link it first.' },
  // 404, 405, 409, 413, 415, 429, 431
  NOT_FOUND: { status: 404, message: 'Not found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  USERNAME_TAKEN: { status: 409, message: 'That username is already taken.' },
  KEY_ID_TAKEN: { status: 409, message: 'A signing key with that kid already exists.' },
  CLIENT_ID_TAKEN: { status: 409, message: 'An OAuth client with that id already exists.' },
  IDENTITY_ALREADY_LINKED: { status: 409, message: 'This identity is already linked to an account.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  LOGIN_THROTTLED: { status: 429, message: 'Too many failed sign-in attempts. Try again later.' },
  PARTNER_RATE_LIMITED: { status: 429, message: 'Too many requests with this partner key. Try again later.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  // 5xx: never expose details
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong.' },
  /** The gateway could not reach the upstream, or it answered with something that is not HTTP. */
  UPSTREAM_UNAVAILABLE: { status: 502, message: 'The upstream service is unavailable.' },
  /** The upstream did not connect, answer or send body data within the route's timeouts. */
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream service did not answer in time.' },
  STORE_UNAVAILABLE: { status: 503, message: 'The session store is unavailable.' },
  /** The guard cannot confirm that its revocation list is current (store and Redis feed both failing). */
  REVOCATION_UNAVAILABLE: { status: 503, message: 'Sessions cannot be verified right now. Try again shortly.' },
  /** Failed sign-in attempts cannot be counted (Redis unreachable), so no password is checked. */
  THROTTLE_UNAVAILABLE: { status: 503, message: 'Sign-in is temporarily unavailable. Try again shortly.' },
  /** An OpenID provider (discovery, token endpoint, keys) cannot be reached or answered nonsense. */
  OIDC_PROVIDER_UNAVAILABLE: { status: 503, message: 'The identity provider cannot be reached. Try again shortly.' },
  /** Single-use values (token ids, nonces) cannot be recorded, so none is accepted. */
  REPLAY_CHECK_UNAVAILABLE: { status: 503, message: 'This request cannot be checked for replay right now. Try again shortly.' },
  /** The partner key registry cannot confirm it is current (store and Redis feed both failing). */
  PARTNER_KEYS_UNAVAILABLE: { status: 503, message: 'Partner keys cannot be verified right now. Try again shortly.' },
  /** Per-key request counts cannot be kept (Redis unreachable), so no partner request is let through. */
  PARTNER_RATE_LIMIT_UNAVAILABLE: { status: 503, message: 'Partner requests cannot be counted right now. Try again shortly.' },
  // not HTTP: raised at start-up or by the CLI
  CONFIG_INVALID: { status: 500, message: 'The configuration is invalid.' },
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  KEY_NOT_FOUND: { status: 404, message: 'No signing key with that kid.' },
  PARTNER_NOT_FOUND: { status: 404, message: 'No such partner.' },
  PARTNER_KEY_NOT_FOUND: { status: 404, message: 'No partner key with that id.' },
  PARTNER_ID_TAKEN: { status: 409, message: 'A partner with that id already exists.' },
  KEY_IN_USE: { status: 409, message: 'That key signs tokens now; run `gatehouse keys rotate --now` first.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** The stable, machine-readable code of a {@link GatehouseError}. */
export type ErrorCode = keyof typeof ERRORS;

/**
 * The one error type Gatehouse throws on purpose. `status` is the HTTP status
 * it maps to; `expose` says whether `message` may reach a client (never for 5xx).
 *
 * @example
 * ```ts
 * try { await gatehouse.login(...) } catch (e) {
 *   if (e instanceof GatehouseError && e.code === 'LOGIN_THROTTLED') { ... }
 * }
 * ```
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  /** Extra response headers this error needs, such as `Retry-After` or `Allow`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    options: { message?: string; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(options.message ?? ERRORS[code].message, { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.expose = this.status < 500;
    this.headers = options.headers ?? {};
  }
}

/** True when `value` is a {@link GatehouseError}, optionally with the given code. */
export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
