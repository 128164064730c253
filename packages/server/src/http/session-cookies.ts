import type { CookieConfig } from '../config/resolve.js';
import type { SessionRecord } from '../store/store.js';
import { serializeCookie } from './cookies.js';

/** How long session cookies should live: until the session's idle or absolute expiry, whichever is first. */
export function sessionCookieMaxAgeSeconds(session: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>, now: number): number {
  return Math.max(0, Math.floor((Math.min(session.idleExpiresAt, session.absoluteExpiresAt) - now) / 1000));
}

/** Lifetime of the anonymous (guest) cookie that anonymous CSRF tokens are bound to. */
export const ANONYMOUS_COOKIE_MAX_AGE_SECONDS = 24 * 3600;

/**
 * Builds the `Set-Cookie` values for Gatehouse's cookies from one place, so
 * that every response that signs in, refreshes or signs out agrees on names,
 * paths and flags.
 */
export class SessionCookies {
  readonly #c: CookieConfig;

  constructor(config: CookieConfig) {
    this.#c = config;
  }

  /**
   * The access cookie outlives the token inside it (it lasts as long as the
   * session may), so that the server can answer `TOKEN_EXPIRED`, which tells
   * the client to refresh, rather than `UNAUTHENTICATED`.
   */
  access(token: string, maxAgeSeconds: number): string {
    return serializeCookie(this.#c.accessName, token, {
      path: '/',
      httpOnly: true,
      secure: this.#c.secure,
      sameSite: this.#c.sameSite,
      maxAgeSeconds,
    });
  }

  /** Strict and scoped to /auth (by default): it never rides along on API requests. */
  refresh(token: string, maxAgeSeconds: number): string {
    return serializeCookie(this.#c.refreshName, token, {
      path: this.#c.refreshPath,
      httpOnly: true,
      secure: this.#c.secure,
      sameSite: 'Strict',
      maxAgeSeconds,
    });
  }

  /** Readable by JavaScript on purpose (Angular and axios copy it into `X-XSRF-TOKEN`); its strength is the session binding, not secrecy. */
  csrf(token: string, maxAgeSeconds: number): string {
    return serializeCookie(this.#c.csrfName, token, {
      path: '/',
      httpOnly: false,
      secure: this.#c.secure,
      sameSite: 'Strict',
      maxAgeSeconds,
    });
  }

  anonymous(id: string): string {
    return serializeCookie(this.#c.anonymousName, id, {
      path: '/',
      httpOnly: true,
      secure: this.#c.secure,
      sameSite: 'Strict',
      maxAgeSeconds: ANONYMOUS_COOKIE_MAX_AGE_SECONDS,
    });
  }

  /** Expires the access, refresh and CSRF cookies. */
  clearSession(): string[] {
    return [
      serializeCookie(this.#c.accessName, '', { path: '/', httpOnly: true, secure: this.#c.secure, sameSite: this.#c.sameSite, maxAgeSeconds: 0 }),
      serializeCookie(this.#c.refreshName, '', { path: this.#c.refreshPath, httpOnly: true, secure: this.#c.secure, sameSite: 'Strict', maxAgeSeconds: 0 }),
      serializeCookie(this.#c.csrfName, '', { path: '/', httpOnly: false, secure: this.#c.secure, sameSite: 'Strict', maxAgeSeconds: 0 }),
    ];
  }
}
