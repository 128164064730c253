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
