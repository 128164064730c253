/**
 * Browser SDK for Gatehouse. Zero dependencies.
 *
 * @packageDocumentation
 */
export { createAuthClient, type AuthClient, type AuthClientOptions } from './auth-client.js';
export { AuthError, isAuthError, type AuthErrorCode, type SignOutReason } from './errors.js';
export { errorFromResponse } from './http.js';
export type { AuthEventName, AuthEvents, AuthState, SessionInfo, SessionSummary, UnauthenticatedEvent, User } from './types.js';
export { providerLoginURL, type IdentityProvider } from './providers.js';
export { readXSRFToken, needsXSRFHeader, DEFAULT_XSRF_COOKIE, DEFAULT_XSRF_HEADER } from './xsrf.js';
