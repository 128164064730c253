import type { IdentityProvider } from './providers.js';
import type { AuthError, SignOutReason } from './errors.js';

/** The signed-in user, as `GET /auth/me` describes them. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
}

/** The current session, as login, refresh and `GET /auth/me` describe it. */
export interface SessionInfo {
  /** The session id (the same id `sessions()` lists). */
  readonly id: string;
  /** When the session ends unless refreshed: the earlier of its idle and absolute expiry (ISO 8601). */
  readonly expiresAt: string;
  /** When the current access token expires (ISO 8601). */
  readonly accessTokenExpiresAt: string;
}

/** One of the user's live sessions, as `GET /auth/sessions` lists it. */
export interface SessionSummary {
  readonly id: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly userAgent: string | null;
  readonly ip: string | null;
  /** True for the session making the request (this browser). */
  readonly current: boolean;
  /** The OAuth client (a native app) holding the session, or null for a browser session. */
  readonly client: string | null;
}

/**
 * `undefined` while the client has not yet asked the server, `null` when
 * signed out, the user when signed in.
 */
export type AuthState = User | null | undefined;

/** Payload of the `unauthenticated` event. */
export interface UnauthenticatedEvent {
  readonly reason: SignOutReason;
  /** The error that revealed the end of the session, when one did (not for `logout`). */
  readonly error?: AuthError;
}

/** The events a client emits, by name. */
export interface AuthEvents {
  /** A user signed in, or the client learned on start that one is. */
  authenticated: User;
  /** The signed-in state ended, here or in another tab. */
  unauthenticated: UnauthenticatedEvent;
}

export type AuthEventName = keyof AuthEvents;

/** Options for `createAuthClient`. All are optional. */
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
  /** Reads the page's cookies (for the XSRF token and the claims cookie). Default: `document.cookie`. */
  readonly readCookies?: () => string;
  /**
   * The readable claims cookie of a server with `cookies.accessToken: "split"`.
   * Default: `__Host-gh_claims`, then `gh_claims` (the server's defaults).
   */
  readonly claimsCookieName?: string;
}

/** The client `createAuthClient` returns. */
export interface AuthClient {
  /** `undefined` until the first answer, then `null` (signed out) or the user. */
  readonly state: AuthState;
  /**
   * The current session's id and expiry times, once a server answer (login,
   * refresh, `/auth/me`) has said them; undefined while the user is known only
   * from the claims cookie.
   */
  readonly session: SessionInfo | undefined;
  /**
   * The signed-in user. The first call asks `GET /auth/me`, unless a
   * split-cookie server's claims cookie names an unexpired access token: then
   * it answers from that cookie, without a request. Callers that arrive while
   * `/auth/me` is in flight share that one request, later callers get the
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
  /**
   * Signs in with an OpenID provider the server is configured for: navigates
   * this page to the server's `/auth/oidc/<provider>/login`, which comes back
   * to `returnTo` (a path on this origin; default `/`) signed in. Never
   * resolves: the page navigates away.
   */
  login(input: { readonly provider: string; readonly returnTo?: string }): Promise<User>;
  /**
   * `POST /auth/logout`, then signed out here and in every other tab. Rejects (and stays signed in) only when the server may not have ended the session.
   * With `atProvider`, a session opened through an OpenID provider is also ended at the provider (`POST /auth/oidc/logout`, then this page navigates there).
   */
  logout(options?: { readonly atProvider?: boolean }): Promise<void>;
  /** The OpenID providers the server offers (`GET /auth/oidc/providers`), for "Sign in with …" buttons. */
  providers(): Promise<IdentityProvider[]>;
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
