/**
 * Sign-in through an OpenID provider (authorization code flow with PKCE,
 * done by the backend): `GET /auth/oidc/providers`, `GET /auth/oidc/<id>/login`,
 * `POST /auth/oidc/<id>/link` and `GET /auth/oidc/<id>/callback`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ClientContext } from '../core/auth-service.js';
import { GatehouseError } from '../core/errors.js';
import { readCookie } from '../http/cookies.js';
import { readJSONBody } from '../http/request-body.js';
import { jsonResponse } from '../http/responses.js';
import type { OpenIDClientModule, ProviderClient, ProviderIdentity } from './provider-client.js';
import { CallbackRejected } from './provider-client.js';
import type { ExternalAccounts } from './external-accounts.js';
import { cookieSessionId, newSessionCookies, redirectTo, type Handler, type OIDCDeps } from './oidc-deps.js';
import type { ProviderTokenVault } from './provider-tokens.js';
import { safeReturnTo } from './return-to.js';
import { openTransaction, sealTransaction, TransactionCookies, type LoginTransaction, type TransactionIntent } from './transaction-cookie.js';

const linkBody = z.strictObject({ password: z.string().min(1).max(1024), returnTo: z.string().max(512).optional() });

export interface LoginRoutesDeps extends OIDCDeps {
  readonly lib: OpenIDClientModule | null;
  readonly clients: ReadonlyMap<string, ProviderClient>;
  readonly accounts: ExternalAccounts;
  readonly vault: ProviderTokenVault;
}

export function createLoginRoutes(deps: LoginRoutesDeps): {
  providers: Handler;
  login: Handler;
  link: Handler;
  callback: Handler;
} {
  const { config, clock, keys, auth } = deps;
  const transactionCookies = new TransactionCookies({ secure: config.cookies.secure });
  const ttlMs = config.oidc.transactionTtlSeconds * 1000;
  const providerList = config.oidc.providers.map((p) => ({ id: p.id, displayName: p.displayName, loginURL: `/auth/oidc/${p.id}/login` }));

  const clientFor = (id: string): ProviderClient => {
    const client = deps.clients.get(id);
    if (client === undefined) throw new GatehouseError('NOT_FOUND');
    return client;
  };

  const returnToOf = (value: string | null | undefined): string => {
    if (value === null || value === undefined || value === '') return '/';
    const safe = safeReturnTo(value, config.publicOrigin);
    if (safe === null) throw new GatehouseError('VALIDATION_FAILED', { message: 'returnTo must be a path on this origin, such as /inbox.' });
    return safe;
  };

  /** Starts a transaction: its cookie, and the provider URL the browser must visit. */
  const begin = async (client: ProviderClient, returnTo: string, intent: TransactionIntent): Promise<{ url: URL; cookie: string }> => {
    const lib = deps.lib;
    if (lib === null) throw new GatehouseError('NOT_FOUND');
    const now = clock.now();
    const transaction: LoginTransaction = {
      id: randomBytes(16).toString('base64url'),
      provider: client.config.id,
      state: lib.randomState(),
      nonce: lib.randomNonce(),
      codeVerifier: lib.randomPKCECodeVerifier(),
      returnTo,
      intent,
      expiresAt: now + ttlMs,
    };
    const url = await client.authorizationURL(transaction);
    const value = await sealTransaction(transaction, keys.oidcTransaction, now);
    return { url, cookie: transactionCookies.set(client.config.id, value, config.oidc.transactionTtlSeconds) };
  };

  const providers: Handler = async () => jsonResponse(200, { providers: providerList });

  const login: Handler = async (request, _client, id) => {
    const client = clientFor(id);
    const returnTo = returnToOf(new URL(request.url).searchParams.get('returnTo'));
    const { url, cookie } = await begin(client, returnTo, { kind: 'login' });
    return jsonResponse(302, null, { headers: { location: url.href }, cookies: [cookie] });
  };

  /** Re-authenticated linking: the password first, then the provider; the callback links instead of signing in. */
  const link: Handler = async (request, client, id) => {
    const provider = clientFor(id);
    const outcome = await deps.guard(request, client);
    if (!outcome.ok) throw Object.assign(outcome.error, { setCookies: outcome.setCookies });
    if (outcome.auth === null || outcome.auth.via !== 'cookie') throw new GatehouseError('UNAUTHENTICATED');
    const parsed = linkBody.safeParse(await readJSONBody(request, { limitBytes: config.bodyLimitBytes, required: true }));
    if (!parsed.success) throw new GatehouseError('VALIDATION_FAILED', { message: 'Invalid or missing field(s): password.' });
    const returnTo = returnToOf(parsed.data.returnTo);
    await auth.confirmPassword(outcome.auth.user.id, parsed.data.password, client, 'link');
    const { url, cookie } = await begin(provider, returnTo, { kind: 'link', userId: outcome.auth.user.id, sessionId: outcome.auth.sessionId });
    return jsonResponse(200, { authorizationURL: url.href }, { cookies: [cookie] });
  };

  const callback: Handler = async (request, client, id) => {
    const provider = clientFor(id);
    const clear = transactionCookies.clear(id);
    try {
      const transaction = await takeTransaction(request, id);
      const { identity, tokens } = await provider.redeem(new URL(request.url).searchParams, transaction);
      if (transaction.intent.kind === 'link') {
        await linkIdentity(request, client, provider, identity, transaction.intent);
        return redirectTo(transaction.returnTo, [clear]);
      }
      const { user } = await deps.accounts.userFor(
        { issuer: identity.issuer, subject: identity.subject, providerId: id, preferredUsername: identity.preferredUsername, email: identity.email },
        { createUsers: provider.config.createUsers },
      );
      const previous = await cookieSessionId(deps, request);
      const issued = await auth.loginExternal(user.id, client, { method: 'oidc', provider: id });
      try {
        await deps.store.saveProviderSession({
          sessionId: issued.session.id,
          providerId: id,
          issuer: identity.issuer,
          subject: identity.subject,
          sid: identity.sid,
          sealedTokens: deps.vault.seal(issued.session.id, tokens),
          updatedAt: clock.now(),
        });
      } catch (error) {
        // A session whose provider session is not recorded could not be ended by the provider: do not keep it.
        await auth.logout(issued.session.id, client);
        throw error;
      }
      // As with a password login, the session these cookies replace ends.
      if (previous !== null && previous !== issued.session.id) await auth.logout(previous, client);
      return redirectTo(transaction.returnTo, [clear, ...newSessionCookies(deps, issued)]);
    } catch (error) {
      if (error instanceof CallbackRejected) {
        await deps.audit({ at: clock.now(), type: 'login_failed', ip: client.ip, detail: { method: 'oidc', provider: id, reason: error.reason } });
      }
      throw Object.assign(error as object, { setCookies: [clear] });
    }
  };

  /** Opens and consumes the transaction cookie: missing, forged, expired, foreign or used before all fail alike. */
  const takeTransaction = async (request: Request, id: string): Promise<LoginTransaction> => {
    const value = readCookie(request.headers.get('cookie'), transactionCookies.name(id));
    if (value === undefined) throw new GatehouseError('OIDC_TRANSACTION_INVALID');
    const transaction = await openTransaction(value, keys.oidcTransaction, { provider: id, now: clock.now() });
    if (transaction === null) throw new GatehouseError('OIDC_TRANSACTION_INVALID');
    if (!(await deps.once.consume('oidc-transaction', transaction.id, transaction.expiresAt))) throw new GatehouseError('OIDC_TRANSACTION_INVALID');
    return transaction;
  };

  const linkIdentity = async (
    request: Request,
    client: ClientContext,
    provider: ProviderClient,
    identity: ProviderIdentity,
    intent: Extract<TransactionIntent, { kind: 'link' }>,
  ): Promise<void> => {
    // The session that re-entered its password must still be live, and be the one these cookies name
    // (when the browser sends them: a Strict access cookie stays behind on the provider's cross-site redirect).
    const current = await cookieSessionId(deps, request);
    const session = await deps.store.findSession(intent.sessionId);
    const now = clock.now();
    if (
      (current !== null && current !== intent.sessionId) ||
      session === null ||
      session.userId !== intent.userId ||
      session.revokedAt !== null ||
      Math.min(session.idleExpiresAt, session.absoluteExpiresAt) <= now
    ) {
      throw new GatehouseError('UNAUTHENTICATED');
    }
    await deps.accounts.link(
      intent.userId,
      { issuer: identity.issuer, subject: identity.subject, providerId: provider.config.id, preferredUsername: identity.preferredUsername, email: identity.email },
      { type: 'identity_linked', ip: client.ip, userAgent: client.userAgent, detail: { provider: provider.config.id } },
    );
    deps.logger.info({ audit: 'identity_linked', userId: intent.userId, provider: provider.config.id }, 'audit');
  };

  return { providers, login, link, callback };
}
