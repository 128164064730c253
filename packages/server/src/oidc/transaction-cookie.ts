/**
 * The OpenID Connect login transaction: what the callback must know to check
 * the provider's answer (state, nonce, PKCE verifier, where to go next),
 * carried in a cookie between `/login` and `/callback` so that no instance
 * needs to remember it.
 *
 * The value is a JWE (`dir`, `A256GCM`) under a key derived for this purpose
 * only, with a `typ` of its own and the provider id as audience: it cannot be
 * read (the PKCE verifier is a secret), forged, moved to another provider's
 * callback, or passed off as any other Gatehouse token, whose keys differ.
 * Single use is enforced by the callback through the consume-once primitive
 * on its `jti`.
 */
import type { KeyObject } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { serializeCookie } from '../http/cookies.js';

/** The JWE `typ` of a login transaction; no other Gatehouse value carries it. */
export const TRANSACTION_TYP = 'gatehouse-oidc-txn+jwt';

/** Why the browser went to the provider. */
export type TransactionIntent =
  | { readonly kind: 'login' }
  /** Linking the provider identity to the signed-in user, after a password re-entry. */
  | { readonly kind: 'link'; readonly userId: string; readonly sessionId: string };

export interface LoginTransaction {
  /** Unique; consumed once by the callback. */
  readonly id: string;
  readonly provider: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A same-origin path (see `safeReturnTo`). */
  readonly returnTo: string;
  readonly intent: TransactionIntent;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

interface TransactionClaims {
  st: string;
  nn: string;
  cv: string;
  rt: string;
  in: 'login' | 'link';
  lu?: string;
  ls?: string;
}

/**
 * Seals `transaction` into a cookie value.
 *
 * @example
 * ```ts
 * const value = await sealTransaction(tx, keys.oidcTransaction, clock.now());
 * ```
 */
export async function sealTransaction(transaction: LoginTransaction, key: KeyObject, now: number): Promise<string> {
  const claims: TransactionClaims = {
    st: transaction.state,
    nn: transaction.nonce,
    cv: transaction.codeVerifier,
    rt: transaction.returnTo,
    in: transaction.intent.kind,
    ...(transaction.intent.kind === 'link' ? { lu: transaction.intent.userId, ls: transaction.intent.sessionId } : {}),
  };
  return new EncryptJWT({ ...claims })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: TRANSACTION_TYP })
    .setJti(transaction.id)
    .setAudience(`oidc:${transaction.provider}`)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(transaction.expiresAt / 1000))
    .encrypt(key);
}

/**
 * Opens a cookie value for `provider`'s callback. Null when it is malformed,
 * tampered with, expired at `now`, or was made for another provider: the
 * callers answer all of these alike.
 */
export async function openTransaction(value: string, key: KeyObject, expected: { readonly provider: string; readonly now: number }): Promise<LoginTransaction | null> {
  try {
    const { payload } = await jwtDecrypt<Partial<TransactionClaims>>(value, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      typ: TRANSACTION_TYP,
      audience: `oidc:${expected.provider}`,
      currentDate: new Date(expected.now),
      requiredClaims: ['jti', 'exp', 'iat'],
      clockTolerance: 0,
    });
    const { st, nn, cv, rt, lu, ls, jti, exp } = payload;
    if (typeof st !== 'string' || typeof nn !== 'string' || typeof cv !== 'string' || typeof rt !== 'string' || typeof jti !== 'string' || exp === undefined) return null;
    let intent: TransactionIntent;
    if (payload.in === 'login') intent = { kind: 'login' };
    else if (payload.in === 'link' && typeof lu === 'string' && typeof ls === 'string') intent = { kind: 'link', userId: lu, sessionId: ls };
    else return null;
    return { id: jti, provider: expected.provider, state: st, nonce: nn, codeVerifier: cv, returnTo: rt, intent, expiresAt: exp * 1000 };
  } catch {
    return null;
  }
}

/** Names and attributes of the transaction cookie; one per provider, scoped to that provider's paths. */
export class TransactionCookies {
  readonly #secure: boolean;

  constructor(options: { readonly secure: boolean }) {
    this.#secure = options.secure;
  }

  /** `__Secure-` where the origin allows it (not `__Host-`: the cookie needs a path of its own). */
  name(provider: string): string {
    return `${this.#secure ? '__Secure-' : ''}gh_oidc_${provider}`;
  }

  /**
   * `SameSite=Lax`: it must come back on the provider's cross-site top-level
   * redirect to the callback, even where session cookies are `Strict`.
   */
  set(provider: string, value: string, maxAgeSeconds: number): string {
    return serializeCookie(this.name(provider), value, { path: this.#path(provider), httpOnly: true, secure: this.#secure, sameSite: 'Lax', maxAgeSeconds });
  }

  clear(provider: string): string {
    return serializeCookie(this.name(provider), '', { path: this.#path(provider), httpOnly: true, secure: this.#secure, sameSite: 'Lax', maxAgeSeconds: 0 });
  }

  #path(provider: string): string {
    return `/auth/oidc/${provider}`;
  }
}
