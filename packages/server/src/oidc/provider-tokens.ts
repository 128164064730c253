/**
 * The provider's tokens of a session, kept on the server only: sealed with
 * AES-256-GCM under a key derived from the secret (bound to the session id,
 * so a copied row does not open elsewhere), refreshed at the provider when
 * they are about to expire, never sent to the browser.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import { openAtRest, sealAtRest } from '../core/key-encryption.js';
import type { Logger } from '../core/logger.js';
import type { ProviderSessionStore } from '../store/provider-session-store.js';
import type { ProviderClient, ProviderTokens } from './provider-client.js';

/** A provider access token ready to forward, with when it stops working. */
export interface ProviderAccessToken {
  /** The configured provider that issued it. */
  readonly providerId: string;
  readonly token: string;
  /** Milliseconds since the epoch; null when the provider did not say. */
  readonly expiresAt: number | null;
}

/**
 * The server-side way to get a session's current provider access token, for
 * gateway routes that forward the provider's token to upstreams that expect
 * it (`forward: 'provider-token'`). The browser never sees these tokens.
 */
export interface ProviderTokenSource {
  /**
   * The access token of the provider session behind Gatehouse session
   * `sessionId`, refreshed first when it expires within a minute. Null when
   * the session was not opened through a provider, or its token expired and
   * cannot be refreshed. Rejects with `OIDC_PROVIDER_UNAVAILABLE` (503) when
   * the provider cannot be reached for a needed refresh, or
   * `OIDC_PROVIDER_DENIED` (401) when it refuses the refresh token.
   *
   * @example
   * ```ts
   * const token = await gatehouse.providerTokens?.accessTokenFor(auth.sessionId);
   * if (token) headers.set('authorization', `Bearer ${token.token}`);
   * ```
   */
  accessTokenFor(sessionId: string): Promise<ProviderAccessToken | null>;
  /**
   * `Bearer <provider access token>` for the session of `auth`, as gateway
   * routes with `forward: "provider-token"` send it upstream. Rejects with
   * 401 `UNAUTHENTICATED` when the session has no usable provider token (the
   * request is then refused, never sent bare), or as {@link accessTokenFor}.
   */
  authorization(auth: { readonly sessionId: string }): Promise<string>;
}

/** Refresh when less than this is left, so a forwarded token does not expire in flight. */
const REFRESH_AHEAD_MS = 60_000;

export class ProviderTokenVault implements ProviderTokenSource {
  readonly #store: ProviderSessionStore;
  readonly #key: KeyObject;
  readonly #clients: ReadonlyMap<string, ProviderClient>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** One refresh per session at a time in this process; other instances are handled by the version check. */
  readonly #refreshing = new Map<string, Promise<ProviderAccessToken | null>>();

  constructor(deps: { store: ProviderSessionStore; key: KeyObject; clients: ReadonlyMap<string, ProviderClient>; clock: Clock; logger: Logger }) {
    this.#store = deps.store;
    this.#key = deps.key;
    this.#clients = deps.clients;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** The sealed form of `tokens` for session `sessionId`. */
  seal(sessionId: string, tokens: ProviderTokens): string {
    return sealAtRest(JSON.stringify(tokens), this.#key, 'provider-tokens', sessionId);
  }

  /** The tokens of a session, or null when it has none or they cannot be opened (the secret changed). */
  async tokensOf(sessionId: string): Promise<{ providerId: string; tokens: ProviderTokens; version: number } | null> {
    const record = await this.#store.findProviderSession(sessionId);
    if (record === null) return null;
    const json = openAtRest(record.sealedTokens, this.#key, 'provider-tokens', sessionId);
    if (json === null) {
      this.#logger.warn({ sessionId }, 'provider tokens of a session cannot be decrypted (was the secret changed?)');
      return null;
    }
    return { providerId: record.providerId, tokens: JSON.parse(json) as ProviderTokens, version: record.tokenVersion };
  }

  async authorization(auth: { readonly sessionId: string }): Promise<string> {
    const token = await this.accessTokenFor(auth.sessionId);
    if (token === null) throw new GatehouseError('UNAUTHENTICATED', { message: 'This session holds no provider token; sign in with the provider.' });
    return `Bearer ${token.token}`;
  }

  async accessTokenFor(sessionId: string): Promise<ProviderAccessToken | null> {
    const current = await this.tokensOf(sessionId);
    if (current === null) return null;
    const { tokens, providerId } = current;
    if (tokens.accessTokenExpiresAt === null || tokens.accessTokenExpiresAt - REFRESH_AHEAD_MS > this.#clock.now()) {
      return { providerId, token: tokens.accessToken, expiresAt: tokens.accessTokenExpiresAt };
    }
    let pending = this.#refreshing.get(sessionId);
    if (pending === undefined) {
      pending = this.#refresh(sessionId, current).finally(() => this.#refreshing.delete(sessionId));
      this.#refreshing.set(sessionId, pending);
    }
    return pending;
  }

  async #refresh(sessionId: string, current: { providerId: string; tokens: ProviderTokens; version: number }): Promise<ProviderAccessToken | null> {
    const { providerId, tokens } = current;
    const client = this.#clients.get(providerId);
    const usable = tokens.accessTokenExpiresAt !== null && tokens.accessTokenExpiresAt > this.#clock.now();
    if (client === undefined || tokens.refreshToken === null) {
      return usable ? { providerId, token: tokens.accessToken, expiresAt: tokens.accessTokenExpiresAt } : null;
    }
    const fresh = await client.refresh(tokens.refreshToken);
    // A provider may rotate the refresh token or keep it, and need not send a new ID token.
    const merged: ProviderTokens = { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken, idToken: fresh.idToken ?? tokens.idToken };
    if (!(await this.#store.replaceProviderTokens(sessionId, current.version, this.seal(sessionId, merged), this.#clock.now()))) {
      // Another instance refreshed first; its tokens are the ones to use (ours may already be superseded).
      const winner = await this.tokensOf(sessionId);
      return winner === null ? null : { providerId, token: winner.tokens.accessToken, expiresAt: winner.tokens.accessTokenExpiresAt };
    }
    return { providerId, token: merged.accessToken, expiresAt: merged.accessTokenExpiresAt };
  }
}
