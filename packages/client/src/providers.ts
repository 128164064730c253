/**
 * Sign-in through an OpenID provider, done by the Gatehouse server: the SPA
 * only navigates to `/auth/oidc/<provider>/login` and comes back signed in
 * with the usual cookies. Provider tokens never reach the browser.
 */

/** A provider the server is configured for (`GET /auth/oidc/providers`). */
export interface IdentityProvider {
  /** What `login({ provider })` takes. */
  readonly id: string;
  /** What a "Sign in with …" button shows. */
  readonly displayName: string;
  /** Where to send the browser to sign in (a path on the server). */
  readonly loginURL: string;
}

/** The URL that starts a sign-in with `provider`, coming back to `returnTo` (a path on this origin). */
export function providerLoginURL(baseURL: string, provider: string, returnTo?: string): string {
  const url = `${baseURL}/auth/oidc/${encodeURIComponent(provider)}/login`;
  return returnTo === undefined ? url : `${url}?returnTo=${encodeURIComponent(returnTo)}`;
}

/** Sends this page to `url` (a full navigation: the server sets cookies on the way back). */
export function navigate(url: string): void {
  const location = (globalThis as { location?: { assign?: (url: string) => void } }).location;
  if (typeof location?.assign !== 'function') throw new TypeError('login({ provider }) needs a browser page to navigate.');
  location.assign(url);
}
