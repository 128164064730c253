import { AuthError, signOutReason, type AuthErrorCode, type SignOutReason } from './errors.js';
import { errorFromResponse, networkError, peekErrorCode, readJSON } from './http.js';
import { createRefreshCoordinator, type LockManagerLike } from './refresh-coordinator.js';
import { createRefreshTimer } from './refresh-timer.js';
import { openTabChannel, type RefreshOutcome, type TabMessage } from './tab-channel.js';
import type { AuthEventName, AuthEvents, AuthState, SessionInfo, SessionSummary, User } from './types.js';
import { DEFAULT_XSRF_COOKIE, DEFAULT_XSRF_HEADER, needsXSRFHeader, readXSRFToken } from './xsrf.js';

/** Options for {@link createAuthClient}. All are optional. */
export interface AuthClientOptions {
  /**
   * Where Gatehouse's `/auth/*` endpoints live: `''` (the default) for the
   * page's own origin, or an absolute prefix such as `https://app.example.com`.
   */
  readonly baseURL?: string;
  /** The `fetch` to build on. Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Default `XSRF-TOKEN` (the server's `cookies.csrfName`). */
  readonly xsrfCookieName?: string;
  /** Default `X-XSRF-TOKEN` (the server's `csrfHeaderName`). */
  readonly xsrfHeaderName?: string;
  /** Refresh this long before the access token expires (plus jitter). Default 30; `false` turns proactive refresh off. */
  readonly refreshLeadSeconds?: number | false;
  /** Reads the page's cookies (for the XSRF token). Default: `document.cookie`. */
  readonly readCookies?: () => string;
}

/** The client {@link createAuthClient} returns. */
export interface AuthClient {
  /** `undefined` until the first answer, then `null` (signed out) or the user. */
  readonly state: AuthState;
  /** The current session's id and expiry times, once known. */
  readonly session: SessionInfo | undefined;
  /**
   * The signed-in user. The first call asks `GET /auth/me`; callers that
   * arrive while it is in flight share that one request, later callers get the
   * remembered answer. Rejects with an {@link AuthError} (a 401 code such as
   * `UNAUTHENTICATED`) when no one is signed in.
   */
  getUser(): Promise<User>;
  /** Asks `GET /auth/me` again, whatever is remembered. */
  refreshUser(): Promise<User>;
  /** Calls `listener` after every change of {@link AuthClient.state}. Returns the unsubscribe function. */
  subscribe(listener: (state: AuthState) => void): () => void;
  /** Listens for `authenticated` or `unauthenticated`. Returns the unsubscribe function. */
  on<E extends AuthEventName>(event: E, listener: (payload: AuthEvents[E]) => void): () => void;
  /** `POST /auth/login`. Rejects with `INVALID_CREDENTIALS`, `LOGIN_THROTTLED` (see `retryAfterSeconds`), … */
  login(credentials: { readonly username: string; readonly password: string }): Promise<User>;
  /** `POST /auth/logout`, then signed out here and in every other tab. Rejects (and stays signed in) only when the server may not have ended the session. */
  logout(): Promise<void>;
  /** This user's live sessions, newest first. */
  sessions(): Promise<SessionSummary[]>;
  /** Ends one session. Ending the current one signs this browser out. `SESSION_NOT_FOUND` if it is not (or no longer) one of the user's. */
  revokeSession(id: string): Promise<void>;
  /** Ends every session of the user after re-checking the password. A wrong password rejects with `INVALID_CREDENTIALS` and leaves the user signed in. */
  revokeAll(password: string): Promise<void>;
  /**
   * A drop-in `fetch`. To this page's own origin it sends cookies, adds the
   * XSRF header to unsafe methods and, when the answer is 401 `TOKEN_EXPIRED`,
   * refreshes once (shared with every other caller and tab) and retries once.
   * Requests to other origins pass through untouched.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Refreshes the session now (single-flight, across tabs). */
  refresh(): Promise<User>;
  /** Resolves with the user, or rejects with a 401 {@link AuthError} when signed out. For route guards. */
  requireUser(): Promise<User>;
  /** As {@link AuthClient.requireUser}, and rejects with `FORBIDDEN` when the user lacks `role`. */
  requireRole(role: string): Promise<User>;
  /** Stops timers and cross-tab listening. The client should not be used afterwards. */
  dispose(): void;
}

const REFRESH_TIMEOUT_MS = 15_000;

function pageOrigin(baseURL: string): string {
  const location = (globalThis as { location?: { origin?: string } }).location;
  if (typeof location?.origin === 'string' && location.origin !== 'null') return location.origin;
  return new URL(baseURL).origin;
}

function defaultReadCookies(): string {
  return (globalThis as { document?: { cookie?: string } }).document?.cookie ?? '';
}

/** The shortest token lifetime the refresh timer plans with, whatever the server says: never a hot loop. */
const MIN_PLANNED_LIFETIME_MS = 3_000;

/**
 * When (on this machine's clock) the access token expires: its lifetime is
 * measured against the server's own clock (the answer's `Date` header), so a
 * wrong clock on this machine does not make the client refresh too late or in a loop.
 */
function localDeadline(iso: string, response: Response | undefined): number {
  const at = Date.parse(iso);
  const serverNow = Date.parse(response?.headers.get('date') ?? '');
  const remaining = at - (Number.isFinite(serverNow) ? serverNow : Date.now());
  return Date.now() + Math.max(MIN_PLANNED_LIFETIME_MS, remaining);
}

/**
 * A client for a Gatehouse server: who is signed in, sign-in and sign-out,
 * sessions, and a `fetch` that keeps the session alive. Zero dependencies.
 *
 * @example
 * ```ts
 * import { createAuthClient } from '@gatehouse/client';
 *
 * const auth = createAuthClient();
 * auth.on('unauthenticated', ({ reason }) => showLogin(reason));
 * const user = await auth.getUser().catch(() => null);
 * const notes = await auth.fetch('/api/notes').then((r) => r.json());
 * ```
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const baseURL = (options.baseURL ?? '').replace(/\/+$/, '');
  const baseFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const xsrfCookie = options.xsrfCookieName ?? DEFAULT_XSRF_COOKIE;
  const xsrfHeader = options.xsrfHeaderName ?? DEFAULT_XSRF_HEADER;
  const readCookies = options.readCookies ?? defaultReadCookies;
  const origin = pageOrigin(baseURL === '' ? 'http://invalid' : baseURL);
  const authURL = (path: string) => `${baseURL}/auth/${path}`;
  const name = `gatehouse:${new URL(authURL(''), origin).href}`;

  let state: AuthState;
  let session: SessionInfo | undefined;
  let signedOutError: AuthError | undefined;
  let meInFlight: Promise<User> | undefined;
  const stateListeners = new Set<(state: AuthState) => void>();
  const eventListeners: { [E in AuthEventName]: Set<(payload: AuthEvents[E]) => void> } = {
    authenticated: new Set(),
    unauthenticated: new Set(),
  };

  const emit = <E extends AuthEventName>(event: E, payload: AuthEvents[E]) => {
    for (const listener of [...eventListeners[event]]) listener(payload);
  };
  const setState = (next: AuthState) => {
    if (next === state) return;
    state = next;
    for (const listener of [...stateListeners]) listener(next);
  };

  const timer = options.refreshLeadSeconds === false ? undefined : createRefreshTimer((options.refreshLeadSeconds ?? 30) * 1000, () => {
    refresh().catch(() => {
      // The outcome already reached the state (signed out) or was transient (kept; the next 401 retries).
    });
  });

  /** Enter the signed-in state with what the server just said. */
  const signedIn = (user: User, info: SessionInfo, response: Response | undefined) => {
    const previous = state;
    session = info;
    signedOutError = undefined;
    timer?.schedule(localDeadline(info.accessTokenExpiresAt, response));
    // Keep the same object when nothing changed, so subscribers do not re-render for nothing.
    const same = previous != null && previous.id === user.id && previous.username === user.username && previous.roles.join('\n') === user.roles.join('\n');
    if (same) return;
    setState(user);
    emit('authenticated', user);
  };

  /** Leave the signed-in state. `announce` tells the other tabs (false when they told us). */
  const signedOut = (reason: SignOutReason, error: AuthError | undefined, announce: boolean) => {
    const previous = state;
    session = undefined;
    signedOutError = error ?? new AuthError('UNAUTHENTICATED', 'Not signed in.', { status: 401 });
    timer?.cancel();
    setState(null);
    // A visitor who was never signed in has no session that ended: no event, nothing to announce.
    const hadSession = previous != null || (error !== undefined && error.code !== 'UNAUTHENTICATED');
    if (!hadSession) return;
    emit('unauthenticated', error === undefined ? { reason } : { reason, error });
    if (announce && previous != null) channel.post({ type: 'signed-out', reason });
  };

  /** A 401 from our own origin: if its code ends the session, sign out. */
  const observeUnauthorized = (code: string | undefined, status: number) => {
    if (code === undefined) return;
    const reason = signOutReason(code as AuthErrorCode);
    if (reason === undefined) return;
    signedOut(reason, new AuthError(code as AuthErrorCode, 'The session has ended.', { status }), true);
  };

  // The answer of this tab's latest refresh: its Date header corrects for clock skew.
  let lastRefreshResponse: Response | undefined;
  const performRefresh = async (): Promise<RefreshOutcome> => {
    let response: Response;
    try {
      response = await baseFetch(authURL('refresh'), {
        method: 'POST',
        credentials: 'include',
        headers: xsrfHeaders('POST', authURL('refresh'), new Headers({ accept: 'application/json' })),
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
      });
    } catch (cause) {
      throw networkError(cause);
    }
    if (response.ok) {
      const body = await readJSON<{ user: User; session: SessionInfo }>(response);
      lastRefreshResponse = response;
      return { at: Date.now(), ok: true, user: body.user, session: body.session };
    }
    const error = await errorFromResponse(response);
    if (error.code === 'REFRESH_TOKEN_INVALID' || error.code === 'REFRESH_TOKEN_REUSED') return { at: Date.now(), ok: false, code: error.code };
    throw error; // CSRF_REJECTED, 5xx: not a verdict on the session
  };

  const applyOutcome = (outcome: RefreshOutcome, fromAnotherTab: boolean) => {
    if (outcome.ok) {
      signedIn(outcome.user, outcome.session, fromAnotherTab ? undefined : lastRefreshResponse);
    } else {
      const reason = outcome.code === 'REFRESH_TOKEN_REUSED' ? 'reused' : 'expired';
      signedOut(reason, new AuthError(outcome.code, 'The session could not be refreshed.', { status: 401 }), !fromAnotherTab);
    }
  };

  const coordinator = createRefreshCoordinator({
    name,
    perform: performRefresh,
    onOutcome(outcome, shared) {
      if (!shared && outcome.ok) channel.post({ type: 'refreshed', outcome });
      applyOutcome(outcome, shared);
    },
    locks: (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks,
  });

  const channel = openTabChannel(name, (message: TabMessage) => {
    if (message.type === 'refreshed') {
      coordinator.learn(message.outcome);
      if (state !== null || message.outcome.ok) applyOutcome(message.outcome, true);
    } else if (message.type === 'signed-out') {
      if (state != null) signedOut(message.reason, undefined, false);
    } else {
      // Another tab signed in: the cookies (shared by all tabs) now hold that session.
      refreshUser().catch(() => {});
    }
  });

  function xsrfHeaders(method: string, url: string, headers: Headers): Headers {
    if (!headers.has(xsrfHeader) && needsXSRFHeader(method, url, origin)) {
      const token = readXSRFToken(readCookies(), xsrfCookie);
      if (token !== undefined) headers.set(xsrfHeader, token);
    }
    return headers;
  }

  /** One attempt, with cookies and (for unsafe methods) the XSRF token read at this moment. */
  const send = (input: RequestInfo | URL, init: RequestInit | undefined, url: string): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = xsrfHeaders(method, url, new Headers(init?.headers ?? request?.headers));
    return baseFetch(input, { ...init, headers, credentials: init?.credentials ?? 'include' });
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

  const authFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = ownURL(input);
    if (url === undefined) return baseFetch(input, init);
    const isAuthEndpoint = url.pathname === new URL(authURL('refresh'), origin).pathname || url.pathname === new URL(authURL('login'), origin).pathname;
    // A Request's body can be read once: keep a copy for the retry. A stream in `init` cannot be replayed.
    const replay = input instanceof Request ? input.clone() : input;
    const replayable = !(init?.body instanceof ReadableStream);
    const sentAt = Date.now();
    const first = await send(input, init, url.href);
    if (first.status !== 401) return first;
    const code = await peekErrorCode(first);
    if (code !== 'TOKEN_EXPIRED' || isAuthEndpoint) {
      observeUnauthorized(code, 401);
      return first;
    }
    try {
      await coordinator.refresh(sentAt);
    } catch {
      return first; // signed out (the coordinator said so) or a transient failure: the caller sees the 401
    }
    if (!replayable) return first;
    const second = await send(replay, init, url.href);
    if (second.status === 401) observeUnauthorized(await peekErrorCode(second), 401);
    return second;
  };

  /** An auth endpoint call through {@link authFetch}: JSON in, JSON (or an AuthError) out. */
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ data: T; response: Response }> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await authFetch(authURL(path), { method, headers, cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (cause) {
      throw networkError(cause);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      // The request's own TOKEN_EXPIRED hides the real verdict, which the failed refresh gave: report that one.
      if (error.code === 'TOKEN_EXPIRED' && state === null && signedOutError !== undefined) throw signedOutError;
      throw error;
    }
    return { data: await readJSON<T>(response), response };
  };

  const loadMe = (): Promise<User> => {
    meInFlight ??= call<{ user: User; session: SessionInfo }>('GET', 'me')
      .then(({ data, response }) => {
        signedIn(data.user, data.session, response);
        return data.user;
      }, (error: unknown) => {
        // 401: signed out (already observed by authFetch when it ended a session). Anything else: state unknown, keep it.
        if (error instanceof AuthError && error.status === 401 && state !== null) signedOut(signOutReason(error.code) ?? 'expired', error, true);
        throw error;
      })
      .finally(() => {
        meInFlight = undefined;
      });
    return meInFlight;
  };

  const getUser = (): Promise<User> => {
    if (state != null) return Promise.resolve(state);
    if (state === null && meInFlight === undefined) return Promise.reject(signedOutError);
    return loadMe();
  };

  const refreshUser = (): Promise<User> => loadMe();

  const refresh = async (): Promise<User> => (await coordinator.refresh(Date.now())).user;

  const client: AuthClient = {
    get state() {
      return state;
    },
    get session() {
      return session;
    },
    getUser,
    refreshUser,
    subscribe(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    on(event, listener) {
      const set = eventListeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => set.delete(listener);
    },
    async login(credentials) {
      const { data, response } = await call<{ user: User; session: SessionInfo }>('POST', 'login', {
        username: credentials.username,
        password: credentials.password,
      });
      signedIn(data.user, data.session, response);
      channel.post({ type: 'signed-in' });
      return data.user;
    },
    async logout() {
      try {
        await call<null>('POST', 'logout');
      } catch (error) {
        // Offline, 5xx or a refused origin/CSRF check: the session may still be live, so do not pretend otherwise.
        if (error instanceof AuthError && (error.status === 0 || error.status === 403 || error.status >= 500)) throw error;
      }
      signedOut('logout', undefined, true);
    },
    async sessions() {
      const { data } = await call<{ sessions: SessionSummary[] }>('GET', 'sessions');
      return data.sessions;
    },
    async revokeSession(id) {
      await call<null>('DELETE', `sessions/${encodeURIComponent(id)}`);
      if (session !== undefined && id === session.id) signedOut('logout', undefined, true);
    },
    async revokeAll(password) {
      await call<null>('POST', 'sessions/revoke-all', { password });
      signedOut('logout', undefined, true);
    },
    fetch: authFetch,
    refresh,
    async requireUser() {
      return getUser();
    },
    async requireRole(role) {
      const user = await getUser();
      if (!user.roles.includes(role)) throw new AuthError('FORBIDDEN', `This needs the role "${role}".`, { status: 403 });
      return user;
    },
    dispose() {
      timer?.dispose();
      channel.close();
      stateListeners.clear();
      eventListeners.authenticated.clear();
      eventListeners.unauthenticated.clear();
    },
  };
  return client;
}
