import { peekErrorCode } from './http.js';
import { needsXSRFHeader, readXSRFToken } from './xsrf.js';

export interface AuthFetchOptions {
  readonly baseFetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** The page's origin: the only one that gets cookies, the XSRF token and 401 handling. */
  readonly origin: string;
  readonly xsrfCookieName: string;
  readonly xsrfHeaderName: string;
  readonly readCookies: () => string;
  /** Paths whose `TOKEN_EXPIRED` must not start a refresh (the refresh and login endpoints themselves). */
  readonly noRefreshPaths: ReadonlySet<string>;
  /** The shared refresh; `sinceMs` is when the failed request was sent. Rejects when it did not succeed. */
  readonly refresh: (sinceMs: number) => Promise<unknown>;
  /**
   * Gets the server to set a fresh XSRF cookie for the current session (the
   * cookie was deleted, or belongs to another session). Resolves true when it did.
   */
  readonly reissueXSRF: () => Promise<boolean>;
  /** Told the code of every 401 from our origin that is not answered by a refresh. */
  readonly onUnauthorized: (code: string | undefined) => void;
}

export interface AuthFetch {
  /** The drop-in `fetch` (see `AuthClient.fetch`). */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Adds the XSRF header to `headers` if `method url` needs it and the caller did not set one. */
  withXSRF(method: string, url: string, headers: Headers): Headers;
}

/**
 * `fetch` with the session attached: cookies and the XSRF token for the
 * page's own origin, and one refresh-and-retry when the access token has
 * expired. Requests to any other origin pass through untouched.
 */
export function createAuthFetch(options: AuthFetchOptions): AuthFetch {
  const { baseFetch, origin } = options;

  const withXSRF = (method: string, url: string, headers: Headers): Headers => {
    if (!headers.has(options.xsrfHeaderName) && needsXSRFHeader(method, url, origin)) {
      // Read at request time, never cached: a new login issues a new token.
      const token = readXSRFToken(options.readCookies(), options.xsrfCookieName);
      if (token !== undefined) headers.set(options.xsrfHeaderName, token);
    }
    return headers;
  };

  /** One attempt, with cookies and (for unsafe methods) the XSRF token of this moment. */
  const send = (input: RequestInfo | URL, init: RequestInit | undefined, url: string): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = withXSRF(method, url, new Headers(init?.headers ?? request?.headers));
    // A Request says 'same-origin' unless told otherwise, which for our own origin is the same as 'include'.
    return baseFetch(input, { ...init, headers, credentials: init?.credentials ?? request?.credentials ?? 'include' });
  };

  const ownURL = (input: RequestInfo | URL): URL | undefined => {
    const raw = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
    try {
      const url = new URL(raw, (globalThis as { location?: { href?: string } }).location?.href ?? `${origin}/`);
      return url.origin === origin ? url : undefined;
    } catch {
      return undefined;
    }
  };

  /**
   * A 403 CSRF_REJECTED on an unsafe request usually means our XSRF cookie is
   * gone or stale (cleared by the user, or replaced by a sign-in elsewhere):
   * have the server re-issue it and try once more. A second refusal is returned
   * as it is: then it is a configuration problem or an attack, not a stale token.
   */
  const retryAfterCSRFRejection = async (first: Response, replay: RequestInfo | URL, init: RequestInit | undefined, url: URL): Promise<Response> => {
    const request = replay instanceof Request ? replay : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    if (!needsXSRFHeader(method, url.href, origin) || (await peekErrorCode(first)) !== 'CSRF_REJECTED') return first;
    if (!(await options.reissueXSRF().catch(() => false))) return first;
    return send(replay, init, url.href);
  };

  return {
    withXSRF,
    async fetch(input, init) {
      const url = ownURL(input);
      if (url === undefined) return baseFetch(input, init);
      // A Request's body can be read once: keep a copy for the retry. A stream in `init` cannot be replayed.
      const replay = input instanceof Request ? input.clone() : input;
      const replayable = !(init?.body instanceof ReadableStream);
      const sentAt = Date.now();
      const first = await send(input, init, url.href);
      if (first.status === 403 && replayable) return retryAfterCSRFRejection(first, replay, init, url);
      if (first.status !== 401) return first;
      const code = await peekErrorCode(first);
      if (code !== 'TOKEN_EXPIRED' || options.noRefreshPaths.has(url.pathname)) {
        options.onUnauthorized(code);
        return first;
      }
      try {
        await options.refresh(sentAt);
      } catch {
        return first; // refused (the client is signed out by now) or transient: the caller sees the 401
      }
      if (!replayable) return first;
      const second = await send(replay, init, url.href);
      if (second.status === 401) options.onUnauthorized(await peekErrorCode(second));
      return second;
    },
  };
}
