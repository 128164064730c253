import type { AccessTokenVerification } from '../core/access-token.js';
import type { ClientContext } from '../core/auth-service.js';
import { csrfTokensEqual, verifyCSRFToken, type CSRFBinding } from '../core/csrf.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import { resourceRefusal } from '../dpop/challenge.js';
import type { ClientTokenVerification } from '../oauth/client-token.js';
import { clientRevocationSubject } from '../store/oauth-client-store.js';
import { readCookie } from './cookies.js';
import type { Auth, GuardAnswer, GuardDeps, GuardOptions, GuardOutcome, GuardRequest } from './guard-types.js';
import { fail, NO_COOKIES, toAuth, toClientAuth } from './guard-verdicts.js';
import { isTrustedRequestOrigin } from './request-origin.js';
import { readAccessToken, sessionCookieMaxAgeSeconds } from './session-cookies.js';

export type { Auth, ClientTokenChecker, GuardAnswer, GuardDeps, GuardOptions, GuardOutcome, GuardRequest } from './guard-types.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/**
 * Builds a guard: a function that decides whether a request may proceed and
 * who is making it. Options are checked once here, not per request.
 *
 * The path of a request, top to bottom: a `Bearer` header is judged alone (no
 * cookie fallback, no CSRF); otherwise the access cookie's token is checked
 * (its signature from the verified-token cache after the first request), then
 * revocation in memory, then, for unsafe methods, Origin and CSRF. Nothing on
 * that path waits, so the verdict comes back synchronously; only a transparent
 * refresh (and the first token after start-up, while the key is imported) answers with a Promise.
 */
export function createGuard(deps: GuardDeps, options: GuardOptions = {}): (request: GuardRequest, client: ClientContext) => GuardAnswer {
  const { config, keys, tokens, revocations } = deps;
  const roles = [...(options.roles ?? [])];
  const enforceCSRF = (options.csrf ?? 'enforce') === 'enforce';
  const transparentRefresh = options.transparentRefresh === true;
  const requiredScopes = options.requireScope === undefined ? null : [...options.requireScope];
  const clientTokens = deps.clientTokens ?? null;
  if (requiredScopes !== null) {
    if (clientTokens === null) throw new TypeError('requireScope needs oauth.enabled: machine clients get their tokens from /oauth/token');
    for (const scope of requiredScopes) if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) throw new TypeError(`requireScope: "${String(scope)}" is not a scope`);
  }
  if (transparentRefresh && config.cookies.refreshPath !== '/') {
    throw new TypeError('transparentRefresh needs cookies.refreshPath set to "/" so the refresh cookie reaches guarded routes');
  }
  const { refreshName, anonymousName, csrfName } = config.cookies;
  const headerName = config.csrfHeaderName;

  const csrfPasses = (request: GuardRequest, cookieHeader: string | null, binding: CSRFBinding): boolean => {
    if (!isTrustedRequestOrigin(request.headers, config.trustedOrigins)) return false;
    const header = request.headers.get(headerName);
    return csrfTokensEqual(header, readCookie(cookieHeader, csrfName)) && verifyCSRFToken(keys.csrf, header, binding);
  };

  const authorize = (auth: Auth, setCookies: readonly string[]): GuardOutcome => {
    if (requiredScopes !== null) {
      // Users are authorized by roles, machines by scopes: a scope route is for machines only.
      if (auth.client === null) return fail('INSUFFICIENT_SCOPE', setCookies);
      for (const scope of requiredScopes) if (!auth.scopes.includes(scope)) return fail('INSUFFICIENT_SCOPE', setCookies);
    }
    for (const role of roles) if (!auth.user.roles.includes(role)) return fail('FORBIDDEN', setCookies);
    return { ok: true, auth, setCookies };
  };

  const refreshInline = async (request: GuardRequest, cookieHeader: string | null, client: ClientContext): Promise<GuardOutcome> => {
    const refreshToken = readCookie(cookieHeader, refreshName);
    if (refreshToken === undefined) return fail('TOKEN_EXPIRED');
    try {
      if (!SAFE_METHODS.has(request.method) && enforceCSRF) {
        const session = await deps.auth.sessionForRefreshToken(refreshToken);
        if (session === null) return fail('REFRESH_TOKEN_INVALID', deps.cookies.clearSession());
        if (!csrfPasses(request, cookieHeader, { kind: 'session', id: session.id })) return fail('CSRF_REJECTED');
      }
      const issued = await deps.auth.refresh(refreshToken, client);
      const claims = await tokens.check(issued.accessToken);
      if (!claims.ok) return fail('TOKEN_INVALID');
      const maxAge = sessionCookieMaxAgeSeconds(issued.session, deps.clock.now());
      return authorize(toAuth(claims.claims, 'cookie'), [...deps.cookies.access(issued.accessToken, maxAge), deps.cookies.refresh(issued.refreshToken, maxAge)]);
    } catch (error) {
      if (isGatehouseError(error) && error.status === 401) return { ok: false, error, setCookies: deps.cookies.clearSession() };
      throw error;
    }
  };

  /** A DPoP refusal: the same code, with the `WWW-Authenticate: DPoP` challenge. */
  const refuseDPoP = (error: GatehouseError): GuardOutcome => ({ ok: false, error: resourceRefusal(error, config.dpop.algorithms), setCookies: NO_COOKIES });

  /** A bearer token is judged alone: valid cookies never rescue a bad header. */
  const judgeBearer = (result: AccessTokenVerification): GuardOutcome => {
    if (!result.ok) return fail(result.code);
    const { claims } = result;
    // A token bound to a key is worth nothing without a proof of that key (RFC 9449 §7.1).
    if (claims.cnf !== undefined) return refuseDPoP(new GatehouseError('DPOP_TOKEN_WITHOUT_PROOF'));
    const status = revocations.check(claims.sid, claims.sub, claims.userVersion);
    if (status !== null) return fail(status === 'revoked' ? 'SESSION_REVOKED' : status === 'stale' ? 'TOKEN_EXPIRED' : 'REVOCATION_UNAVAILABLE');
    return authorize(toAuth(claims, 'bearer'), NO_COOKIES);
  };

  /**
   * `Authorization: DPoP <token>`: the token must be bound to a key (`cnf.jkt`)
   * and come with a proof for this request signed by that key: `htm`, `htu`,
   * `ath` and a `jti` never seen before. Proof verification is asynchronous by
   * nature (a signature per request and a write to the consume-once record).
   */
  const judgeDPoP = (result: AccessTokenVerification, token: string, request: GuardRequest): GuardAnswer => {
    if (!result.ok) return refuseDPoP(new GatehouseError(result.code));
    const { claims } = result;
    const jkt = claims.cnf?.jkt;
    if (jkt === undefined) return refuseDPoP(new GatehouseError('DPOP_TOKEN_NOT_BOUND'));
    const status = revocations.check(claims.sid, claims.sub, claims.userVersion);
    if (status === 'unverifiable') return fail('REVOCATION_UNAVAILABLE');
    if (status !== null) return refuseDPoP(new GatehouseError(status === 'revoked' ? 'SESSION_REVOKED' : 'TOKEN_EXPIRED'));
    return withProof(token, jkt, request, () => authorize(toAuth(claims, 'dpop'), NO_COOKIES));
  };

  /** The proof of `request` for `token`, bound to `jkt`; `admit` decides once it holds. */
  const withProof = (token: string, jkt: string, request: GuardRequest, admit: () => GuardOutcome): GuardAnswer => {
    if (request.url === undefined) return refuseDPoP(new GatehouseError('DPOP_URL_MISMATCH'));
    return deps.dpop.verify({ method: request.method, target: request.url, proof: request.headers.get('dpop') }, { accessToken: token, jkt }).then(admit, (error: unknown) => {
      if (isGatehouseError(error)) return refuseDPoP(error);
      throw error;
    });
  };

  /** `Authorization: DPoP` on a route for machine clients: a machine token bound to a key, with its proof. */
  const judgeClientDPoP = (result: ClientTokenVerification, token: string, request: GuardRequest): GuardAnswer => {
    if (!result.ok) {
      // Not a machine token: a user's bound token is judged as such (and then told INSUFFICIENT_SCOPE), anything else refused.
      const user = tokens.check(token);
      const judgeUser = (r: AccessTokenVerification): GuardAnswer => (r.ok ? judgeDPoP(r, token, request) : refuseDPoP(new GatehouseError(result.code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : r.code)));
      return user instanceof Promise ? user.then(judgeUser) : judgeUser(user);
    }
    const { claims } = result;
    if (claims.jkt === null) return refuseDPoP(new GatehouseError('DPOP_TOKEN_NOT_BOUND'));
    return withProof(token, claims.jkt, request, () => authorize(toClientAuth(claims, 'dpop'), NO_COOKIES));
  };

  const judgeCookie = (result: AccessTokenVerification, request: GuardRequest, cookieHeader: string | null, client: ClientContext): GuardAnswer => {
    if (!result.ok) {
      if (result.code === 'TOKEN_EXPIRED' && transparentRefresh) return refreshInline(request, cookieHeader, client);
      return fail(result.code);
    }
    const { claims } = result;
    if (claims.cnf !== undefined) return refuseDPoP(new GatehouseError('DPOP_TOKEN_WITHOUT_PROOF'));
    const status = revocations.check(claims.sid, claims.sub, claims.userVersion);
    if (status === 'revoked') return fail('SESSION_REVOKED', deps.cookies.clearSession());
    // Fail closed, but keep the cookies: the session is probably fine, this instance just cannot tell right now.
    if (status === 'unverifiable') return fail('REVOCATION_UNAVAILABLE');
    if (status === 'stale') return transparentRefresh ? refreshInline(request, cookieHeader, client) : fail('TOKEN_EXPIRED');
    if (enforceCSRF && !SAFE_METHODS.has(request.method) && !csrfPasses(request, cookieHeader, { kind: 'session', id: claims.sid })) {
      return fail('CSRF_REJECTED');
    }
    return authorize(toAuth(claims, 'cookie'), NO_COOKIES);
  };

  const withoutAccessToken = (request: GuardRequest, cookieHeader: string | null, client: ClientContext): GuardAnswer => {
    if (transparentRefresh && readCookie(cookieHeader, refreshName) !== undefined) return refreshInline(request, cookieHeader, client);
    if (!options.allowAnonymous) return fail('UNAUTHENTICATED');
    if (enforceCSRF && !SAFE_METHODS.has(request.method)) {
      const anonymousId = readCookie(cookieHeader, anonymousName);
      if (anonymousId === undefined || !csrfPasses(request, cookieHeader, { kind: 'anonymous', id: anonymousId })) return fail('CSRF_REJECTED');
    }
    return { ok: true, auth: null, setCookies: NO_COOKIES };
  };

  /** A machine token, on a route with requireScope. */
  const judgeClient = (result: ClientTokenVerification, token: string): GuardAnswer => {
    if (!result.ok) {
      // Not a machine token: a user's token gets the scope refusal once it is known to be valid, anything else its own.
      const user = tokens.check(token);
      const judgeUser = (r: AccessTokenVerification): GuardOutcome => (r.ok ? judgeBearer(r) : fail(result.code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : r.code));
      return user instanceof Promise ? user.then(judgeUser) : judgeUser(user);
    }
    // A machine token bound to a key (cnf.jkt) is worth nothing as a bearer token (RFC 9449 §7.1): send it as DPoP.
    if (result.claims.jkt !== null) return refuseDPoP(new GatehouseError('DPOP_TOKEN_WITHOUT_PROOF'));
    // A removed client's tokens are revoked like a disabled user's: by subject, issued before the removal.
    const status = revocations.check('', clientRevocationSubject(result.claims.sub), result.claims.iat);
    if (status !== null) return fail(status === 'unverifiable' ? 'REVOCATION_UNAVAILABLE' : 'TOKEN_INVALID');
    return authorize(toClientAuth(result.claims), NO_COOKIES);
  };

  return function guard(request, client) {
    const authorization = request.headers.get('authorization');
    if (authorization !== null) {
      if (authorization.length >= 8 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
        const bearer = authorization.slice(7).trim();
        // A route for machine clients: their token kind is checked first (a user's token is then told INSUFFICIENT_SCOPE).
        if (clientTokens !== null && requiredScopes !== null) {
          const machine = clientTokens.check(bearer);
          return machine instanceof Promise ? machine.then((settled) => judgeClient(settled, bearer)) : judgeClient(machine, bearer);
        }
        const result = tokens.check(bearer);
        return result instanceof Promise ? result.then(judgeBearer) : judgeBearer(result);
      }
      if (authorization.length < 6 || authorization.slice(0, 5).toLowerCase() !== 'dpop ') return fail('INVALID_AUTHORIZATION');
      const token = authorization.slice(5).trim();
      if (clientTokens !== null && requiredScopes !== null) {
        const machine = clientTokens.check(token);
        return machine instanceof Promise ? machine.then((settled) => judgeClientDPoP(settled, token, request)) : judgeClientDPoP(machine, token, request);
      }
      const result = tokens.check(token);
      return result instanceof Promise ? result.then((settled) => judgeDPoP(settled, token, request)) : judgeDPoP(result, token, request);
    }
    const cookieHeader = request.headers.get('cookie');
    const accessToken = readAccessToken(cookieHeader, config.cookies); // one cookie, or the split pair joined
    if (accessToken === undefined) return withoutAccessToken(request, cookieHeader, client);
    const result = tokens.check(accessToken);
    return result instanceof Promise
      ? result.then((settled) => judgeCookie(settled, request, cookieHeader, client))
      : judgeCookie(result, request, cookieHeader, client);
  };
}
