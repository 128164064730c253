/**
 * `GET /oauth/authorize` shows the sign-in page for a checked authorization
 * request; `POST /oauth/authorize` takes the form (password login, CSRF-safe)
 * and redirects back to the app with a single-use code (RFC 6749 §4.1.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { isGatehouseError } from '../core/errors.js';
import { readCookie, serializeCookie } from '../http/cookies.js';
import { isTrustedRequestOrigin } from '../http/request-origin.js';
import { readFormBody } from '../oidc/form-body.js';
import type { UserRecord } from '../store/store.js';
import { sealAuthorizationCode } from './authorization-code.js';
import {
  openAuthorizationRequest,
  readAuthorizationRequest,
  redirectBack,
  redirectOf,
  REQUEST_TTL_SECONDS,
  sealAuthorizationRequest,
  UnredirectableError,
  type AuthorizationRequest,
} from './authorization-request.js';
import { issuerOf, type OAuthDeps, type OAuthHandler } from './oauth-deps.js';
import { OAuthError } from './oauth-error.js';
import { errorPage, pageHeaders, signInPage } from './sign-in-page.js';

/** A fingerprint of a password hash: a code minted before a password change is void after it. */
export function passwordVersion(user: UserRecord): string {
  return createHash('sha256').update(user.passwordHash).digest('base64url').slice(0, 22);
}

export function createAuthorizeEndpoint(deps: OAuthDeps): { readonly get: OAuthHandler; readonly post: OAuthHandler } {
  const { config, keys, clock } = deps;
  const issuer = issuerOf(config);
  // The nonce cookie binds the form to the browser that loaded it (login CSRF). __Host- wherever the origin is secure.
  const cookieName = config.cookies.secure ? '__Host-gh_oauth_request' : 'gh_oauth_request';
  const cookie = (value: string, maxAgeSeconds: number) =>
    serializeCookie(cookieName, value, { path: '/', httpOnly: true, secure: config.cookies.secure, sameSite: 'Strict', maxAgeSeconds });

  const html = (status: number, body: string, redirectURI: string | null, cookies: readonly string[] = []) => {
    const headers = pageHeaders(redirectURI);
    for (const c of cookies) headers.append('set-cookie', c);
    return new Response(body, { status, headers });
  };
  const redirect = (location: string, cookies: readonly string[] = []) => {
    const headers = pageHeaders(null);
    headers.set('location', location);
    for (const c of cookies) headers.append('set-cookie', c);
    return new Response(null, { status: 303, headers });
  };

  const showForm = async (request: AuthorizationRequest, status: number, problem: string | null, username: string, nonce: string, setCookie: boolean) => {
    const sealedRequest = await sealAuthorizationRequest(request, nonce, keys.oauthRequest, clock.now());
    const body = signInPage({ clientId: request.clientId, sealedRequest, problem, username });
    return html(status, body, request.redirectURI, setCookie ? [cookie(nonce, REQUEST_TTL_SECONDS)] : []);
  };

  const get: OAuthHandler = async (request) => {
    try {
      const { request: checked } = await readAuthorizationRequest(new URL(request.url).searchParams, (id) => deps.store.findClient(id));
      return await showForm(checked, 200, null, '', randomBytes(16).toString('base64url'), true);
    } catch (error) {
      if (error instanceof UnredirectableError) return html(400, errorPage(error.message), null);
      const target = redirectOf(error);
      if (error instanceof OAuthError && target !== undefined) {
        return redirect(redirectBack(target, issuer, { error: error.error, error_description: error.description }));
      }
      throw error;
    }
  };

  const post: OAuthHandler = async (request, client) => {
    if (!isTrustedRequestOrigin(request.headers, config.trustedOrigins)) {
      return html(403, errorPage('This form was not sent from the sign-in page.'), null);
    }
    const form = await readFormBody(request, { limitBytes: config.bodyLimitBytes });
    const nonce = readCookie(request.headers.get('cookie'), cookieName);
    const checked = await openAuthorizationRequest(form.get('request') ?? '', nonce, keys.oauthRequest, clock.now());
    if (checked === null || nonce === undefined) {
      return html(400, errorPage('The sign-in page expired or was opened in another browser. Start again from the app.'), null);
    }
    const done = [cookie('', 0)];
    if (form.get('action') === 'deny') {
      return redirect(redirectBack(checked, issuer, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }), done);
    }
    const username = form.get('username') ?? '';
    let user: UserRecord;
    try {
      user = await deps.auth.verifyPassword({ username, password: form.get('password') ?? '' }, client);
    } catch (error) {
      if (isGatehouseError(error, 'INVALID_CREDENTIALS')) return showForm(checked, 401, error.message, username, nonce, false);
      if (isGatehouseError(error, 'LOGIN_THROTTLED')) return showForm(checked, 429, error.message, username, nonce, false);
      throw error;
    }
    // The client may have been removed while the page was open.
    const registered = await deps.store.findClient(checked.clientId);
    if (registered === null) return html(400, errorPage('This app is no longer registered.'), null, done);
    const { code } = await sealAuthorizationCode(
      { userId: user.id, clientId: checked.clientId, redirectURI: checked.redirectURI, codeChallenge: checked.codeChallenge, scope: checked.scope, passwordVersion: passwordVersion(user) },
      keys.oauthCode,
      clock.now(),
      config.oauth.codeTtlSeconds,
    );
    return redirect(redirectBack(checked, issuer, { code }), done);
  };

  return { get, post };
}
