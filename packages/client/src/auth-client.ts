import { AuthError, signOutReason, type AuthErrorCode, type SignOutReason } from './errors.js';
import { createAuthFetch } from './auth-fetch.js';
import { DEFAULT_CLAIMS_COOKIES, readClaimsCookie, type CookieClaims } from './claims-cookie.js';
import { errorFromResponse, networkError, readJSON } from './http.js';
import { defaultReadCookies, pageOrigin } from './page-environment.js';
import { createRefreshCoordinator, type LockManagerLike } from './refresh-coordinator.js';
import { retryTransientRefresh } from './refresh-retry.js';
import { requestRefresh } from './refresh-request.js';
import { createRefreshTimer, localDeadline, MIN_PLANNED_LIFETIME_MS } from './refresh-timer.js';
import { navigate, providerLoginURL, type IdentityProvider } from './providers.js';
import { openTabChannel, type RefreshOutcome, type TabMessage } from './tab-channel.js';
import type { AuthClient, AuthClientOptions, AuthEventName, AuthEvents, AuthState, SessionInfo, SessionSummary, User } from './types.js';
import { DEFAULT_XSRF_COOKIE, DEFAULT_XSRF_HEADER } from './xsrf.js';

export type { AuthClient, AuthClientOptions } from './types.js';

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
  const origin = pageOrigin(baseURL === '' ? 'http://invalid' : baseURL);
  const authURL = (path: string) => `${baseURL}/auth/${path}`;
  const name = `gatehouse:${new URL(authURL(''), origin).href}`;

  let state: AuthState;
  let session: SessionInfo | undefined;
  // The session id the claims cookie named, until a server answer gives the full SessionInfo.
  let claimedSessionId: string | undefined;
  let signedOutError: AuthError | undefined;
  let meInFlight: Promise<User> | undefined;
  let disposed = false;
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

  /**
   * Enter the signed-in state from the claims cookie of a split-cookie server,
   * without a request. The refresh is planned by the token's own `exp`.
   */
  const signedInFromCookie = (claims: CookieClaims) => {
    claimedSessionId = claims.sessionId;
    signedOutError = undefined;
    timer?.schedule(Math.max(claims.expiresAtMs, Date.now() + MIN_PLANNED_LIFETIME_MS));
    setState(claims.user);
    emit('authenticated', claims.user);
  };

  /** Leave the signed-in state. `announce` tells the other tabs (false when they told us). */
  const signedOut = (reason: SignOutReason, error: AuthError | undefined, announce: boolean) => {
    const previous = state;
    session = undefined;
    claimedSessionId = undefined;
    signedOutError = error ?? new AuthError('UNAUTHENTICATED', 'Not signed in.', { status: 401 });
    timer?.cancel();
    setState(null);
    // Only a session that ended makes an event: not a visitor who never had one, and not a
    // second 401 after the first already signed us out (parallel requests all fail at once).
    const hadSession = previous != null || (previous === undefined && error !== undefined && error.code !== 'UNAUTHENTICATED');
    if (!hadSession) return;
    emit('unauthenticated', error === undefined ? { reason } : { reason, error });
    if (announce && previous != null) channel.post({ type: 'signed-out', reason });
  };

  /** A 401 from our own origin: if its code ends the session, sign out. */
  const observeUnauthorized = (code: string | undefined) => {
    if (code === undefined) return;
    const reason = signOutReason(code as AuthErrorCode);
    if (reason === undefined) return;
    signedOut(reason, new AuthError(code as AuthErrorCode, 'The session has ended.', { status: 401 }), true);
  };

  // The answer of this tab's latest refresh: its Date header corrects for clock skew.
  let lastRefreshResponse: Response | undefined;
  const performRefresh = async (): Promise<RefreshOutcome> => {
    const { outcome, response } = await requestRefresh(baseFetch, authURL('refresh'), () => withXSRF('POST', authURL('refresh'), new Headers({ accept: 'application/json' })));
    if (outcome.ok) lastRefreshResponse = response;
    return outcome;
  };

  const applyOutcome = (outcome: RefreshOutcome, fromAnotherTab: boolean) => {
    if (outcome.ok) {
      signedIn(outcome.user, outcome.session, fromAnotherTab ? undefined : lastRefreshResponse);
    } else {
      const reason = signOutReason(outcome.code) ?? 'expired';
      signedOut(reason, new AuthError(outcome.code, 'The session could not be refreshed.', { status: 401 }), !fromAnotherTab);
    }
  };

  const coordinator = createRefreshCoordinator({
    name,
    // A refresh without a verdict (no answer, a lost answer, a 5xx) is tried again at once, with
    // backoff: the browser may hold a token the server has already rotated, and presenting it again
    // inside the grace window gets the same successor instead of a theft alarm.
    perform: () => retryTransientRefresh(performRefresh, { shouldContinue: () => !disposed }),
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

  const { fetch: authFetch, withXSRF } = createAuthFetch({
    baseFetch,
    origin,
    xsrfCookieName: options.xsrfCookieName ?? DEFAULT_XSRF_COOKIE,
    xsrfHeaderName: options.xsrfHeaderName ?? DEFAULT_XSRF_HEADER,
    readCookies: options.readCookies ?? defaultReadCookies,
    noRefreshPaths: new Set(['refresh', 'login'].map((path) => new URL(authURL(path), origin).pathname)),
    refresh: (sinceMs) => coordinator.refresh(sinceMs),
    // GET /auth/me re-issues the XSRF cookie when it is missing or bound to another session.
    reissueXSRF: async () => (await baseFetch(authURL('me'), { credentials: 'include', cache: 'no-store' })).ok,
    onUnauthorized: observeUnauthorized,
  });

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

  const readCookies = options.readCookies ?? defaultReadCookies;
  const claimsCookies = options.claimsCookieName === undefined ? DEFAULT_CLAIMS_COOKIES : [options.claimsCookieName];

  const getUser = (): Promise<User> => {
    if (state != null) return Promise.resolve(state);
    if (state === null && meInFlight === undefined) return Promise.reject(signedOutError);
    if (state === undefined && meInFlight === undefined) {
      // A split-cookie server says who is signed in through a readable cookie: no /auth/me at start-up.
      // An expired token there says nothing about the session: ask the server, which refreshes.
      const claims = readClaimsCookie(readCookies(), claimsCookies);
      if (claims !== undefined && claims.expiresAtMs > Date.now()) {
        signedInFromCookie(claims);
        return Promise.resolve(claims.user);
      }
    }
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
    async login(credentials: { readonly username: string; readonly password: string } | { readonly provider: string; readonly returnTo?: string }): Promise<User> {
      if ('provider' in credentials) {
        navigate(providerLoginURL(baseURL, credentials.provider, credentials.returnTo));
        return new Promise<User>(() => undefined); // the page is going away
      }
      const { data, response } = await call<{ user: User; session: SessionInfo }>('POST', 'login', {
        username: credentials.username,
        password: credentials.password,
      });
      signedIn(data.user, data.session, response);
      channel.post({ type: 'signed-in' });
      return data.user;
    },
    async logout(options) {
      let redirectTo: string | null = null;
      try {
        if (options?.atProvider === true) redirectTo = (await call<{ redirectTo: string | null }>('POST', 'oidc/logout')).data.redirectTo;
        else await call<null>('POST', 'logout');
      } catch (error) {
        // Offline, 5xx or a refused origin/CSRF check: the session may still be live, so do not pretend otherwise.
        if (error instanceof AuthError && (error.status === 0 || error.status === 403 || error.status >= 500)) throw error;
      }
      signedOut('logout', undefined, true);
      if (redirectTo !== null) navigate(redirectTo);
    },
    async providers(): Promise<IdentityProvider[]> {
      return (await call<{ providers: IdentityProvider[] }>('GET', 'oidc/providers')).data.providers;
    },
    async sessions() {
      const { data } = await call<{ sessions: SessionSummary[] }>('GET', 'sessions');
      return data.sessions;
    },
    async revokeSession(id) {
      await call<null>('DELETE', `sessions/${encodeURIComponent(id)}`);
      if (id === (session?.id ?? claimedSessionId)) signedOut('logout', undefined, true);
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
      disposed = true;
      timer?.dispose();
      channel.close();
      stateListeners.clear();
      eventListeners.authenticated.clear();
      eventListeners.unauthenticated.clear();
    },
  };
  return client;
}
