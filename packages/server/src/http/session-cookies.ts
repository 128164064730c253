import type { CookieConfig } from '../config/resolve.js';
import type { SessionRecord } from '../store/store.js';
import { readCookie, serializeCookie } from './cookies.js';

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
   * The access token's cookies: one HttpOnly cookie with the whole token, or
   * (`cookies.accessToken: "split"`) a readable claims cookie with its header
   * and payload plus the HttpOnly access cookie with only its signature, which
   * {@link readAccessToken} joins again. Either way they outlive the token
   * inside (they last as long as the session may), so that the server can
   * answer `TOKEN_EXPIRED`, which tells the client to refresh, rather than
   * `UNAUTHENTICATED`.
   */
  access(token: string, maxAgeSeconds: number): string[] {
    const flags = { path: '/', secure: this.#c.secure, sameSite: this.#c.sameSite, maxAgeSeconds } as const;
    if (this.#c.accessToken === 'whole') return [serializeCookie(this.#c.accessName, token, { ...flags, httpOnly: true })];
    const cut = token.lastIndexOf('.');
    return [
      // Readable on purpose: what the SPA may know anyway (who, roles, expiry). Without the signature it proves nothing.
      serializeCookie(this.#c.claimsName, token.slice(0, cut), { ...flags, httpOnly: false }),
      serializeCookie(this.#c.accessName, token.slice(cut + 1), { ...flags, httpOnly: true }),
    ];
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

  /** Expires the access (and, when split, claims), refresh and CSRF cookies. */
  clearSession(): string[] {
    const cleared = [
      serializeCookie(this.#c.accessName, '', { path: '/', httpOnly: true, secure: this.#c.secure, sameSite: this.#c.sameSite, maxAgeSeconds: 0 }),
      serializeCookie(this.#c.refreshName, '', { path: this.#c.refreshPath, httpOnly: true, secure: this.#c.secure, sameSite: 'Strict', maxAgeSeconds: 0 }),
      serializeCookie(this.#c.csrfName, '', { path: '/', httpOnly: false, secure: this.#c.secure, sameSite: 'Strict', maxAgeSeconds: 0 }),
    ];
    if (this.#c.accessToken === 'split') {
      cleared.push(serializeCookie(this.#c.claimsName, '', { path: '/', httpOnly: false, secure: this.#c.secure, sameSite: this.#c.sameSite, maxAgeSeconds: 0 }));
    }
    return cleared;
  }
}

/**
 * The access token a request's cookies carry, or undefined when there is no
 * access cookie. A value with dots is a whole token; a bare signature (split
 * cookies) is joined to the claims cookie's header and payload. Both forms are
 * read whatever `cookies.accessToken` says, so switching it signs nobody out.
 *
 * Nothing here is trusted: the joined text is verified like any other token,
 * so a rewritten claims cookie fails the signature, a claims cookie without
 * its signature cookie is no token at all, and a signature without its claims
 * cookie is a malformed one.
 */
export function readAccessToken(cookieHeader: string | null, config: Pick<CookieConfig, 'accessName' | 'claimsName'>): string | undefined {
  const access = readCookie(cookieHeader, config.accessName);
  if (access === undefined || access.includes('.')) return access;
  const claims = readCookie(cookieHeader, config.claimsName);
  return claims === undefined ? access : `${claims}.${access}`;
}
