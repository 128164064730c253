/**
 * CSRF for a partner's page (the signed double-submit pattern of the OWASP
 * cheat sheet): `GET /auth/partner/csrf` sets an HttpOnly cookie holding a
 * random id and answers a token, an HMAC of the partner key's id and that
 * cookie under a key of its own (`KeyRing.partnerCSRF`) and a binding kind of
 * its own (`partner`). An unsafe request with the publishable key must send
 * the token in `X-Gatehouse-Partner-CSRF` and carry the cookie. A session's
 * CSRF token never passes here, nor a partner's there: other key, other kind.
 *
 * The cookie is a third-party cookie on the partner's page, so it is
 * `SameSite=None; Secure; Partitioned`: kept per top-level site (CHIPS) where
 * browsers partition, and refused (so the check fails closed) where a browser
 * keeps no cookie for an embedded site at all.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { mintCSRFToken, verifyCSRFToken } from '../core/csrf.js';
import { readCookie } from '../http/cookies.js';
import type { HeaderReader } from '../http/request-origin.js';

/** The request header that carries the partner CSRF token. */
export const PARTNER_CSRF_HEADER = 'x-gatehouse-partner-csrf';

/** How long the cookie (and so the tokens bound to it) lasts: a day, renewed by asking again. */
const COOKIE_MAX_AGE_SECONDS = 24 * 3600;

/** 16 random bytes, canonical base64url. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export class PartnerCSRF {
  readonly #key: KeyObject;
  /** `__Host-gh_partner_csrf` on a secure origin (loopback http counts); SameSite=None needs Secure anyway. */
  readonly cookieName: string;
  readonly #secure: boolean;

  constructor(key: KeyObject, options: { readonly secure: boolean }) {
    this.#key = key;
    this.#secure = options.secure;
    this.cookieName = options.secure ? '__Host-gh_partner_csrf' : 'gh_partner_csrf';
  }

  /**
   * A token for `keyId`, bound to the request's cookie when it has a
   * well-formed one, else to a new cookie (returned as `setCookie`).
   */
  mint(keyId: string, cookieHeader: string | null): { readonly token: string; readonly setCookie: string | undefined } {
    const existing = readCookie(cookieHeader, this.cookieName);
    const id = existing !== undefined && COOKIE_VALUE.test(existing) ? existing : randomBytes(16).toString('base64url');
    const setCookie =
      id === existing
        ? undefined
        : `${this.cookieName}=${id}; Path=/; Max-Age=${COOKIE_MAX_AGE_SECONDS}; HttpOnly${this.#secure ? '; Secure; SameSite=None; Partitioned' : '; SameSite=Lax'}`;
    return { token: mintCSRFToken(this.#key, { kind: 'partner', id: binding(keyId, id) }), setCookie };
  }

  /** Whether the request's header token was minted for `keyId` and the request's cookie. */
  verify(keyId: string, headers: HeaderReader): boolean {
    const cookie = readCookie(headers.get('cookie'), this.cookieName);
    if (cookie === undefined || !COOKIE_VALUE.test(cookie)) return false;
    return verifyCSRFToken(this.#key, headers.get(PARTNER_CSRF_HEADER), { kind: 'partner', id: binding(keyId, cookie) });
  }
}

/** NUL cannot occur in either part (hex id, base64url cookie), so the pair is encoded unambiguously. */
function binding(keyId: string, cookie: string): string {
  return `${keyId}\0${cookie}`;
}
