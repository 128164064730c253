import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Fields that hold a credential, wherever they appear one level deep in a
 * log object: Gatehouse's own names and the OAuth / OpenID ones (RFC 6749,
 * 7636, 7523, 9449, OpenID back-channel logout). `code` is censored only at
 * the top level and in a request's body or query: elsewhere `err.code`
 * names an error and must stay readable.
 */
const SECRET_FIELDS = [
  'password',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'logout_token',
  'code_verifier',
  'assertion',
  'client_assertion',
  'dpop',
];
const HEADERS = ['cookie', 'authorization', 'dpop', 'signature', 'x-gatehouse-csrf'];
const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  'code',
  'body.code',
  'query.code',
  'req.body.code',
  'req.query.code',
  ...HEADERS.flatMap((header) => [`headers["${header}"]`, `req.headers["${header}"]`]),
];

/** What a log line keeps of an error: never its response, body or `cause` payload (openid-client puts a provider's body there). */
export interface LoggedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly status?: number;
  readonly cause?: LoggedError;
}

/**
 * Reduces an error to its name, code, message and HTTP status, and those of
 * an `Error` it was caused by. Other properties (an openid-client error's
 * response and parsed body, an undici error's headers) may carry tokens, so
 * they are left out.
 */
export function loggedError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { name: typeof error, message: 'a non-Error value was thrown' };
  const { code, status } = error as { code?: unknown; status?: unknown };
  const cause = depth < 2 && error.cause instanceof Error ? loggedError(error.cause, depth + 1) : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    ...(cause === undefined ? {} : { cause }),
  };
}

/**
 * Structured JSON logs on stdout (or `destination`). Gatehouse never passes
 * tokens, cookies, passwords or request headers to the logger; the error
 * serializer and the redaction list are a second line of defence in case a
 * caller logs an error carrying a response, or a request object.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
    serializers: { err: loggedError },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
