// Thin client for the Gatehouse HTTP contract. It owns three concerns so the UI
// doesn't have to: the XSRF header on unsafe requests, turning error bodies into
// ApiError, and one silent refresh-then-retry when the access token has expired.

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A failed call. `code` is the server's machine-readable code (or NETWORK_ERROR / HTTP_<status>). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** Seconds to wait, from Retry-After (429 only), or null. */
    this.retryAfter = retryAfter;
    /** True once this error made us leave the signed-in state; the UI has already reacted. */
    this.sessionEnded = false;
  }
}

let sessionEndedHandler = () => {};

/** Register the single callback that switches the UI to signed-out when the session is gone. */
export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

/**
 * Read at request time, never cached: the server issues a new XSRF-TOKEN on
 * every login (and on /auth/me when it is missing), and a stale copy would get
 * the request rejected.
 */
export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw; // malformed %-escape: send it as-is and let the server judge
    }
  }
  return null;
}

function parseRetryAfter(header) {
  if (!header) return null;
  // Retry-After is either delta-seconds or an HTTP date.
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}

async function readJson(response) {
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** One HTTP round trip, no retries. Resolves with the JSON body (null for 204). */
async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE_METHODS.has(method)) {
    const token = readCookie('XSRF-TOKEN');
    if (token !== null) headers['X-XSRF-TOKEN'] = token;
  }

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store', // auth state must never come from the HTTP cache
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'Could not reach the server. Check your connection and try again.');
  }

  if (response.ok) {
    try {
      return response.status === 204 ? null : await readJson(response);
    } catch {
      throw new ApiError(response.status, 'BAD_RESPONSE', 'The server sent a response this page could not read.');
    }
  }

  const error = await readJson(response).then((data) => data?.error, () => null);
  throw new ApiError(
    response.status,
    typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
    typeof error?.message === 'string' ? error.message : `The request failed (HTTP ${response.status}).`,
    parseRetryAfter(response.headers.get('Retry-After')),
  );
}

// Single-flight refresh: every caller that hits TOKEN_EXPIRED while a refresh
// is under way awaits the same promise, so the refresh token is spent once.
let refreshInFlight = null;
// A request sent before the latest refresh settled can still come back with
// TOKEN_EXPIRED afterwards; it reuses that refresh's outcome instead of
// starting another one. The generation tells the two cases apart.
let lastRefresh = null;
let refreshGeneration = 0;

function refreshSession() {
  if (!refreshInFlight) {
    refreshInFlight = lastRefresh = send('POST', '/auth/refresh').finally(() => {
      refreshGeneration += 1;
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

function endSession(error) {
  if (!error.sessionEnded) {
    error.sessionEnded = true;
    sessionEndedHandler(error);
  }
  return error;
}

/**
 * A 401 means the session is over, except INVALID_CREDENTIALS: that is a wrong
 * password (login, sign-out-everywhere) and the session, if any, is intact.
 */
function settle(error) {
  if (error instanceof ApiError && error.status === 401 && error.code !== 'INVALID_CREDENTIALS') {
    return endSession(error);
  }
  return error;
}

/** Send a request; on TOKEN_EXPIRED refresh once (shared) and retry the request once. */
export async function request(method, path, body) {
  const generationAtSend = refreshGeneration;
  try {
    return await send(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401 && error.code === 'TOKEN_EXPIRED')) throw settle(error);
  }

  try {
    await (refreshGeneration === generationAtSend ? refreshSession() : lastRefresh);
  } catch (error) {
    // A network blip says nothing about the session; keep the user where they are.
    throw error.code === 'NETWORK_ERROR' ? error : endSession(error);
  }

  try {
    return await send(method, path, body);
  } catch (error) {
    throw settle(error); // a second TOKEN_EXPIRED is not retried again: it ends the session
  }
}

const sessionPath = (id) => `/auth/sessions/${encodeURIComponent(id)}`;

export const login = (username, password) => request('POST', '/auth/login', { username, password });
export const me = () => request('GET', '/auth/me');
export const logout = () => request('POST', '/auth/logout');
export const listSessions = () => request('GET', '/auth/sessions');
export const revokeSession = (id) => request('DELETE', sessionPath(id));
export const revokeAllSessions = (password) => request('POST', '/auth/sessions/revoke-all', { password });
export const getProfile = () => request('GET', '/api/profile');
export const listNotes = () => request('GET', '/api/notes');
export const addNote = (text) => request('POST', '/api/notes', { text });
