import type { GatehouseConfig } from '../config/resolve.js';
import type { AccessTokenService } from '../core/access-token.js';
import type { AuthService } from '../core/auth-service.js';
import type { Clock } from '../core/clock.js';
import type { GatehouseError } from '../core/errors.js';
import type { KeyRing } from '../core/keys.js';
import type { RevocationList } from '../core/revocation-list.js';
import type { DPoPProofs } from '../dpop/proofs.js';
import type { ClientTokenVerification } from '../oauth/client-token.js';
import type { HeaderReader } from './request-origin.js';
import type { SessionCookies } from './session-cookies.js';

// The shapes a guard speaks in: what it reads, what it is told, what it answers.

/** The verified identity a guarded handler receives. */
export interface Auth {
  readonly user: { readonly id: string; readonly username: string; readonly roles: readonly string[] };
  readonly sessionId: string;
  /** The access token's `jti`. */
  readonly tokenId: string;
  /** When the access token expires (ms since the epoch). */
  readonly expiresAt: number;
  /**
   * How the request authenticated: cookies need CSRF defence, bearer tokens do
   * not; `dpop` is a token bound to a key with a proof of that key for this request.
   */
  readonly via: 'cookie' | 'bearer' | 'dpop';
  /**
   * The machine client calling with a client-credentials token, or null for a
   * user. Only routes with `requireScope` ever see a client; there `user.id`
   * is `client:<id>` (never a user's id) with no roles, and `sessionId` is empty.
   */
  readonly client: string | null;
  /** The scopes the token carries: a machine client's; always empty for a user's session. */
  readonly scopes: readonly string[];
  /**
   * The user version the access token describes (its `uv`): a later change to
   * the user (roles, password, disabled) makes it stale. -1 for a machine client.
   */
  readonly userVersion: number;
}

/** What a guard looks at. A Web `Request` fits; adapters for other frameworks pass a light view. */
export interface GuardRequest {
  readonly method: string;
  readonly headers: HeaderReader;
  /**
   * The request target (`/path?query`) or absolute URL. Only DPoP reads it,
   * and only its path, which with a `dpop.origins` origin makes the `htu` a
   * proof must name. Without it a DPoP request is refused.
   */
  readonly url?: string;
}

export interface GuardOptions {
  /** Every listed role is required (403 `FORBIDDEN` otherwise). */
  readonly roles?: readonly string[];
  /**
   * Let requests without credentials through with `auth: null`. Their unsafe
   * methods still need a CSRF token, bound to the anonymous cookie from
   * `GET /auth/csrf` (guest checkout and similar forms).
   */
  readonly allowAnonymous?: boolean;
  /** `'skip'` turns the CSRF check off for this route. Only for routes that change nothing a victim would mind. */
  readonly csrf?: 'enforce' | 'skip';
  /**
   * Refresh inline when the access token has expired and set the new cookies
   * on the response. Needs `cookies.refreshPath: "/"` so the refresh cookie
   * reaches the route.
   */
  readonly transparentRefresh?: boolean;
  /**
   * A route for machine clients (OAuth client credentials, `oauth.enabled`):
   * admits a machine token carrying every listed scope, and nothing else.
   * A user's token or cookie session is 403 `INSUFFICIENT_SCOPE` here (users
   * are authorized by roles), as is a machine token missing a scope. Without
   * this option a machine token is never accepted (401 `TOKEN_INVALID`).
   */
  readonly requireScope?: readonly string[];
}

/** A guard's verdict. `setCookies` must be sent on the response either way. */
export type GuardOutcome =
  | { readonly ok: true; readonly auth: Auth | null; readonly setCookies: readonly string[] }
  | { readonly ok: false; readonly error: GatehouseError; readonly setCookies: readonly string[] };

export interface GuardDeps {
  readonly config: GatehouseConfig;
  readonly keys: KeyRing;
  readonly tokens: AccessTokenService;
  readonly revocations: RevocationList;
  readonly auth: AuthService;
  readonly cookies: SessionCookies;
  readonly clock: Clock;
  /** Verifies the proofs that come with DPoP-bound tokens (`Authorization: DPoP`). */
  readonly dpop: DPoPProofs;
  /** Machine clients' tokens; null unless `oauth.enabled`. */
  readonly clientTokens?: ClientTokenChecker | null;
}

/** What the guard needs from the machine-token service (`ClientTokenService`). */
export interface ClientTokenChecker {
  check(token: string): ClientTokenVerification | Promise<ClientTokenVerification>;
}

/** A guard's verdict: at once when it can be (a cached token, a refusal), a Promise when it must wait (a transparent refresh). */
export type GuardAnswer = GuardOutcome | Promise<GuardOutcome>;
