/**
 * The authorization request of `GET /oauth/authorize` (RFC 6749 §4.1.1 with
 * PKCE, RFC 7636): read and checked against the client's registration, then
 * sealed into the sign-in form (a JWE of its own `typ`) so that the POST
 * carries exactly what was checked, bound to the browser by a cookie nonce.
 */
import type { KeyObject } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { OAuthClientRecord } from '../store/store.js';
import { matchesRedirectURI, SCOPE_TOKEN } from './client-registry.js';
import { OAuthError } from './oauth-error.js';
import { isS256Challenge } from './pkce.js';

/** The JWE `typ` of a sealed authorization request. */
export const REQUEST_TYP = 'gatehouse-oauth-request+jwt';

/** How long the sign-in page may stay open before its form is refused. */
export const REQUEST_TTL_SECONDS = 600;

export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectURI: string;
  readonly codeChallenge: string;
  /** Echoed back unchanged; at most 512 characters. */
  readonly state: string | null;
  /** Space-separated, each one allowed for the client. */
  readonly scope: string;
}

/** Why a request cannot even be redirected back: no known client or no registered redirect URI (RFC 6749 §4.1.2.1). */
export class UnredirectableError extends Error {
  override readonly name = 'UnredirectableError';
}

const SINGLE = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope'] as const;

/**
 * Reads the query of an authorization request. Throws
 * {@link UnredirectableError} for a missing or unknown client or a redirect
 * URI it did not register (shown on a page, never redirected), and
 * {@link OAuthError} for anything else (redirected back with `error`).
 */
export async function readAuthorizationRequest(
  query: URLSearchParams,
  findClient: (id: string) => Promise<OAuthClientRecord | null>,
): Promise<{ request: AuthorizationRequest; client: OAuthClientRecord }> {
  for (const name of SINGLE) if (query.getAll(name).length > 1) throw new UnredirectableError(`The parameter ${name} is repeated.`);
  const clientId = query.get('client_id');
  const client = clientId === null ? null : await findClient(clientId);
  if (client === null || client.type !== 'native') throw new UnredirectableError('Unknown client.');
  const redirectURI = query.get('redirect_uri');
  if (redirectURI === null || !matchesRedirectURI(client, redirectURI)) throw new UnredirectableError('The redirect URI is not registered for this client.');
  const state = query.get('state');
  const base = { clientId: client.id, redirectURI, state: state !== null && state.length <= 512 ? state : null };
  const fail = (error: OAuthError): never => {
    throw Object.assign(error, { redirect: base });
  };
  if (state !== null && state.length > 512) fail(new OAuthError('invalid_request', 'state is longer than 512 characters.'));
  if (query.get('response_type') !== 'code') fail(new OAuthError('unsupported_response_type', 'Only response_type=code is supported.'));
  // RFC 7636 makes "plain" the default when no method is named: so a missing method is refused like plain.
  if (query.get('code_challenge_method') !== 'S256') fail(new OAuthError('invalid_request', 'PKCE with code_challenge_method=S256 is required.'));
  const codeChallenge = query.get('code_challenge') ?? '';
  if (!isS256Challenge(codeChallenge)) fail(new OAuthError('invalid_request', 'code_challenge must be an S256 challenge.'));
  const requested = (query.get('scope') ?? '').split(' ').filter((s) => s !== '');
  for (const scope of requested) {
    if (!SCOPE_TOKEN.test(scope) || !client.scopes.includes(scope)) fail(new OAuthError('invalid_scope', 'A requested scope is not allowed for this client.'));
  }
  return { request: { ...base, codeChallenge, scope: [...new Set(requested)].join(' ') }, client };
}

/** The redirect target an {@link OAuthError} from {@link readAuthorizationRequest} goes back to, if any. */
export function redirectOf(error: unknown): Pick<AuthorizationRequest, 'redirectURI' | 'state'> | undefined {
  return (error as { redirect?: Pick<AuthorizationRequest, 'redirectURI' | 'state'> }).redirect;
}

/** Seals a checked request for the sign-in form, bound to `nonce` (the browser's cookie). */
export async function sealAuthorizationRequest(request: AuthorizationRequest, nonce: string, key: KeyObject, now: number): Promise<string> {
  return new EncryptJWT({ rq: request, nn: nonce })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: REQUEST_TYP })
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + REQUEST_TTL_SECONDS)
    .encrypt(key);
}

/** Opens a sealed request; null when malformed, tampered with, expired, or bound to another nonce. */
export async function openAuthorizationRequest(sealed: string, nonce: string | undefined, key: KeyObject, now: number): Promise<AuthorizationRequest | null> {
  if (nonce === undefined || sealed.length > 4096) return null;
  try {
    const { payload } = await jwtDecrypt<{ rq?: AuthorizationRequest; nn?: string }>(sealed, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      typ: REQUEST_TYP,
      currentDate: new Date(now),
      requiredClaims: ['exp'],
      clockTolerance: 0,
    });
    // The nonce is random and public to this browser only; equality suffices, but compare without early exit anyway.
    if (typeof payload.nn !== 'string' || payload.nn.length !== nonce.length || !equalStrings(payload.nn, nonce)) return null;
    const rq = payload.rq;
    if (rq === undefined || typeof rq.clientId !== 'string' || typeof rq.redirectURI !== 'string' || typeof rq.codeChallenge !== 'string' || typeof rq.scope !== 'string') return null;
    return { clientId: rq.clientId, redirectURI: rq.redirectURI, codeChallenge: rq.codeChallenge, scope: rq.scope, state: typeof rq.state === 'string' ? rq.state : null };
  } catch {
    return null;
  }
}

function equalStrings(a: string, b: string): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Where the browser goes back to: the redirect URI with `params`, and `iss` (RFC 9207) against mix-up. */
export function redirectBack(target: Pick<AuthorizationRequest, 'redirectURI' | 'state'>, issuer: string, params: Readonly<Record<string, string>>): string {
  const url = new URL(target.redirectURI);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (target.state !== null) url.searchParams.set('state', target.state);
  url.searchParams.set('iss', issuer);
  return url.href;
}
