/**
 * Codes the Gatehouse server answers with (see docs/http-api.md, "Error codes"),
 * plus two the client raises itself:
 * - `NETWORK_ERROR`: the request never got an answer (offline, DNS, CORS refusal, timeout);
 * - `BAD_RESPONSE`: an answer this client cannot read (not the JSON the contract promises).
 */
export type AuthErrorCode =
  | 'MALFORMED_REQUEST'
  | 'MALFORMED_JSON'
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'SESSION_REVOKED'
  | 'REFRESH_TOKEN_INVALID'
  | 'REFRESH_TOKEN_REVOKED'
  | 'REFRESH_TOKEN_REUSED'
  | 'INVALID_AUTHORIZATION'
  | 'CSRF_REJECTED'
  | 'ORIGIN_REJECTED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'SESSION_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'LOGIN_THROTTLED'
  | 'HEADERS_TOO_LARGE'
  | 'INTERNAL_ERROR'
  | 'STORE_UNAVAILABLE'
  | 'REVOCATION_UNAVAILABLE'
  | 'THROTTLE_UNAVAILABLE'
  | 'NETWORK_ERROR'
  | 'BAD_RESPONSE';

/**
 * The one error type the client rejects with. Match on `code`, which is
 * stable; `message` is for people. `status` is the HTTP status, or 0 when no
 * answer arrived.
 *
 * @example
 * ```ts
 * try {
 *   await auth.login({ username, password });
 * } catch (error) {
 *   if (isAuthError(error, 'LOGIN_THROTTLED')) wait(error.retryAfterSeconds);
 * }
 * ```
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;
  readonly status: number;
  /** Seconds to wait before trying again (from `Retry-After`, 429 only), or undefined. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AuthErrorCode, message: string, options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `value` is an {@link AuthError}, optionally with one of the given codes. */
export function isAuthError(value: unknown, ...codes: AuthErrorCode[]): value is AuthError {
  return value instanceof AuthError && (codes.length === 0 || codes.includes(value.code));
}

/** Why the signed-in state ended; carried by the `unauthenticated` event. */
export type SignOutReason = 'logout' | 'expired' | 'revoked' | 'reused';

/**
 * The sign-out reason a 401 code stands for, or undefined when the code does
 * not end a session (a wrong password on revoke-all leaves it intact).
 */
export function signOutReason(code: AuthErrorCode): SignOutReason | undefined {
  switch (code) {
    case 'SESSION_REVOKED':
    case 'REFRESH_TOKEN_REVOKED':
      return 'revoked';
    case 'REFRESH_TOKEN_REUSED':
      return 'reused';
    case 'UNAUTHENTICATED':
    case 'TOKEN_INVALID':
    case 'TOKEN_EXPIRED':
    case 'REFRESH_TOKEN_INVALID':
    case 'INVALID_AUTHORIZATION':
      return 'expired';
    default:
      return undefined;
  }
}
