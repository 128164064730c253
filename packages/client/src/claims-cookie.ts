import type { User } from './types.js';
import { readXSRFToken } from './xsrf.js';

/**
 * Where a server with `cookies.accessToken: "split"` puts the access token's
 * header and payload: `__Host-gh_claims` on a secure origin, `gh_claims` on
 * plain http (see the server's `cookies.claimsName`).
 */
export const DEFAULT_CLAIMS_COOKIES: readonly string[] = ['__Host-gh_claims', 'gh_claims'];

/** What the claims cookie says: who the access token names, and until when. */
export interface CookieClaims {
  readonly user: User;
  readonly sessionId: string;
  /** The access token's `exp`, in ms (the server's clock). */
  readonly expiresAtMs: number;
}

function decodeBase64URL(part: string): string {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/**
 * Reads the claims cookie, or undefined when there is none or it is not the
 * header and payload of a Gatehouse access token. Nothing here is verified
 * (the signature is in an HttpOnly cookie the page cannot see): it is a hint
 * for the UI, and the server judges every request on the joined token.
 */
export function readClaimsCookie(cookieString: string, names: readonly string[]): CookieClaims | undefined {
  for (const name of names) {
    const value = readXSRFToken(cookieString, name);
    const parts = value?.split('.');
    if (parts?.length !== 2) continue;
    try {
      const claims = JSON.parse(decodeBase64URL(parts[1] ?? '')) as Record<string, unknown>;
      const { sub, sid, exp, roles, preferred_username: username } = claims;
      if (typeof sub !== 'string' || typeof sid !== 'string' || typeof username !== 'string' || typeof exp !== 'number') continue;
      if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) continue;
      return { user: { id: sub, username, roles: roles as string[] }, sessionId: sid, expiresAtMs: exp * 1000 };
    } catch {
      // not base64url JSON: not ours
    }
  }
  return undefined;
}
