import { errorFromResponse, networkError, readJSON } from './http.js';
import type { RefreshOutcome } from './tab-channel.js';
import type { SessionInfo, User } from './types.js';

const REFRESH_TIMEOUT_MS = 15_000;

/**
 * One `POST /auth/refresh`: a verdict on the session (new tokens, or a refresh
 * token the server refuses), with the answer whose `Date` header corrects for
 * clock skew. Anything else (no answer, CSRF_REJECTED, 5xx) throws: it says nothing about the session.
 */
export async function requestRefresh(
  baseFetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>,
  url: string,
  headers: () => Headers,
): Promise<{ readonly outcome: RefreshOutcome; readonly response: Response }> {
  let response: Response;
  try {
    response = await baseFetch(url, { method: 'POST', credentials: 'include', headers: headers(), signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS) });
  } catch (cause) {
    throw networkError(cause);
  }
  if (response.ok) {
    const body = await readJSON<{ user: User; session: SessionInfo }>(response);
    return { outcome: { at: Date.now(), ok: true, user: body.user, session: body.session }, response };
  }
  const error = await errorFromResponse(response);
  if (error.code === 'REFRESH_TOKEN_INVALID' || error.code === 'REFRESH_TOKEN_REVOKED' || error.code === 'REFRESH_TOKEN_REUSED') {
    return { outcome: { at: Date.now(), ok: false, code: error.code }, response };
  }
  throw error; // CSRF_REJECTED, 5xx: not a verdict on the session
}
