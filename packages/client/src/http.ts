import { AuthError, type AuthErrorCode } from './errors.js';

const KNOWN_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  // Retry-After is either delta-seconds or an HTTP date.
  const seconds = /^\d+$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : undefined;
}

/**
 * The server's error code in a non-2xx answer, without consuming the body
 * (the caller may still hand the response on). Undefined when the body is not
 * Gatehouse's `{"error": {"code": …}}`.
 */
export async function peekErrorCode(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' && KNOWN_CODE.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An {@link AuthError} for a non-2xx answer (reads the body). A body that is
 * not Gatehouse's error JSON becomes `BAD_RESPONSE`, with the status kept.
 *
 * @example
 * ```ts
 * const response = await auth.fetch('/api/notes', { method: 'POST', body });
 * if (!response.ok) throw await errorFromResponse(response);
 * ```
 */
export async function errorFromResponse(response: Response): Promise<AuthError> {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } } | null;
    if (typeof body?.error?.code === 'string' && KNOWN_CODE.test(body.error.code)) code = body.error.code;
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // not JSON: a proxy's error page, say
  }
  return new AuthError((code ?? 'BAD_RESPONSE') as AuthErrorCode, message ?? `The request failed (HTTP ${response.status}).`, {
    status: response.status,
    retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
  });
}

/** The JSON body of a 2xx answer (null for 204 or an empty body). */
export async function readJSON<T>(response: Response): Promise<T> {
  try {
    const text = await response.text();
    return (text === '' ? null : JSON.parse(text)) as T;
  } catch (cause) {
    throw new AuthError('BAD_RESPONSE', 'The server sent an answer this client could not read.', { status: response.status, cause });
  }
}

export function networkError(cause: unknown): AuthError {
  return new AuthError('NETWORK_ERROR', 'Could not reach the server.', { cause });
}
