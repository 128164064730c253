import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * What a CSRF token is bound to: the session once signed in, or a pre-session
 * id (an anonymous cookie) for the login form itself, so login CSRF is covered;
 * or, for a partner's page, its publishable key and a cookie of its own
 * (minted with a key of its own too, see `KeyRing.partnerCSRF`).
 * The kind is part of the MAC, so a token for one never passes as another.
 */
export type CSRFBinding =
  | { readonly kind: 'session'; readonly id: string }
  | { readonly kind: 'anonymous'; readonly id: string }
  | { readonly kind: 'partner'; readonly id: string };

/** 16 random bytes = 22 base64url chars; the last carries 4 zero bits. */
const NONCE_BYTES = 16;
const NONCE_CHARS = 22;
/** HMAC-SHA256 = 32 bytes = 43 base64url chars; the last carries 2 zero bits. */
const MAC_BYTES = 32;
const MAC_CHARS = 43;
const TOKEN_CHARS = NONCE_CHARS + 1 + MAC_CHARS;

/** Canonical base64url only, so one token has exactly one spelling. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{21}[AQgw]\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Longest value {@link csrfTokensEqual} will compare; real tokens are 66 chars. */
const MAX_COMPARE_LENGTH = 256;

/**
 * The MAC input. NUL separators cannot occur in `kind` or in the fixed-length
 * base64url nonce, so the encoding is unambiguous even if an id contains NUL.
 */
function mac(key: KeyObject, binding: CSRFBinding, nonce: string): Buffer {
  return createHmac('sha256', key).update(`${binding.kind}\0${binding.id}\0${nonce}`, 'utf8').digest();
}

function isValidBinding(binding: unknown): binding is CSRFBinding {
  if (typeof binding !== 'object' || binding === null) return false;
  const { kind, id } = binding as { kind?: unknown; id?: unknown };
  return (kind === 'session' || kind === 'anonymous' || kind === 'partner') && typeof id === 'string' && id !== '';
}

/**
 * Mints a signed double-submit token (OWASP CSRF cheat sheet): `<nonce>.<mac>`.
 * Not a secret (it sits in a JavaScript-readable cookie); its strength is the
 * HMAC binding to `binding`, which an attacker cannot produce without the key.
 * Mint a new one whenever the binding changes (login, logout, session rotation).
 *
 * @throws TypeError for a binding with an unknown kind or an empty id.
 * @example
 * ```ts
 * const csrf = mintCSRFToken(keys.csrf, { kind: 'session', id: session.id });
 * // Set-Cookie: __Host-XSRF-TOKEN=<csrf>; Secure; Path=/; SameSite=Strict
 * ```
 */
export function mintCSRFToken(key: KeyObject, binding: CSRFBinding): string {
  if (!isValidBinding(binding)) throw new TypeError('A CSRF binding needs kind session, anonymous or partner and a non-empty id.');
  const nonce = randomBytes(NONCE_BYTES).toString('base64url');
  return `${nonce}.${mac(key, binding, nonce).toString('base64url')}`;
}

/**
 * True only when `token` was minted by {@link mintCSRFToken} with this key for
 * exactly this binding. Never throws: anything malformed is simply false.
 *
 * @example
 * ```ts
 * const header = req.headers['x-xsrf-token'];
 * if (!csrfTokensEqual(header, cookie) || !verifyCSRFToken(keys.csrf, header, binding)) {
 *   throw new GatehouseError('CSRF_REJECTED');
 * }
 * ```
 */
export function verifyCSRFToken(key: KeyObject, token: string | undefined | null, binding: CSRFBinding): boolean {
  try {
    if (typeof token !== 'string' || token.length !== TOKEN_CHARS || !TOKEN_SHAPE.test(token)) return false;
    if (!isValidBinding(binding)) return false;
    const nonce = token.slice(0, NONCE_CHARS);
    const presented = Buffer.from(token.slice(NONCE_CHARS + 1), 'base64url');
    const expected = mac(key, binding, nonce);
    // Both are 32 bytes by construction; the check keeps timingSafeEqual from throwing.
    return presented.length === MAC_BYTES && timingSafeEqual(presented, expected);
  } catch {
    return false; // e.g. a key of the wrong type: fail closed, never 500 on a CSRF check
  }
}

/**
 * Constant-time comparison of the header copy with the cookie copy. False when
 * either is missing or empty, so "both absent" never counts as a match.
 *
 * @example
 * ```ts
 * csrfTokensEqual(req.headers['x-xsrf-token'], cookies['__Host-XSRF-TOKEN']);
 * ```
 */
export function csrfTokensEqual(a: string | undefined | null, b: string | undefined | null): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a === '' || b === '') return false;
  if (a.length > MAX_COMPARE_LENGTH || b.length > MAX_COMPARE_LENGTH) return false;
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Length is not secret (tokens have one fixed length); only content is compared in constant time.
  return left.length === right.length && timingSafeEqual(left, right);
}
