import type { GatehouseConfig } from './config/resolve.js';
import type { AuthService, ClientContext } from './core/auth-service.js';
import type { Clock } from './core/clock.js';
import type { ConsumeOnce } from './core/consume-once.js';
import type { Logger } from './core/logger.js';
import type { RevocationList } from './core/revocation-list.js';
import type { SigningKeySet } from './core/signing-keys.js';
import type { DPoPProofs } from './dpop/proofs.js';
import type { GuardAnswer, GuardOptions, GuardOutcome, GuardRequest } from './http/guard.js';
import type { HeaderReader } from './http/request-origin.js';
import type { ProviderTokenSource } from './oidc/provider-tokens.js';
import type { PartnerServices } from './partners/partners.js';
import type { SignatureVerifier } from './signatures/verifier.js';
import type { Store } from './store/store.js';

// What createGatehouse is given and what it hands back.

export interface CreateGatehouseOptions {
  readonly config: GatehouseConfig;
  /**
   * Defaults to the store `config.database` names: PostgreSQL when
   * `database.url` is set, else the SQLite file at `config.databasePath`.
   * A store passed in is migrated but not closed by {@link Gatehouse.close}.
   */
  readonly store?: Store;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How often to read revocations made by other processes (the CLI, other instances). Default 250 ms. */
  readonly revocationSyncIntervalMs?: number;
}

/** A guard bound to its options; see {@link createGuard}. */
export interface Guard {
  (request: GuardRequest, client: ClientContext): Promise<GuardOutcome>;
  /**
   * The same verdict without the Promise whenever none is needed, which is
   * nearly always (a cached token, a refusal): a Promise only for a transparent
   * refresh. The adapters call this, so a guarded request costs no microtask.
   */
  readonly check: (request: GuardRequest, client: ClientContext) => GuardAnswer;
}

/** A running Gatehouse engine: the `/auth` handler, guards, and the services behind them. */
export interface Gatehouse {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly auth: AuthService;
  readonly logger: Logger;
  /** Where every expiry rule reads the time. */
  readonly clock: Clock;
  readonly revocations: RevocationList;
  /** The asymmetric signing keys, or null with HS256. */
  readonly signingKeys: SigningKeySet | null;
  /**
   * The one "consume once" primitive every instance shares (Redis `SET NX PX`
   * when `redis.url` is set, else a unique row in the store): for values that
   * may be used only once, such as token ids and nonces.
   */
  readonly consumeOnce: ConsumeOnce;
  /**
   * The OpenID provider's access token of a session opened through a
   * provider (refreshed on the server; never sent to the browser), for
   * gateway routes that forward the provider's token. Undefined when no
   * provider is configured.
   */
  readonly providerTokens: ProviderTokenSource | undefined;
  /**
   * The verifier of signed requests (RFC 9421) for the `signatures` section:
   * its keys, origins and window, nonces in {@link consumeOnce}. Hand it to
   * `nodeSignatureGuard`, `expressSignatureGuard`, `fastifySignatureGuard` or
   * `honoSignatureGuard`. Reading it without `signatures.keys` throws a
   * `TypeError`, so a guard is never built that no request could pass.
   */
  readonly signatures: SignatureVerifier;
  /**
   * Partners and their keys: `admin` (add, list, rotate, revoke) always;
   * with `partners.enabled`, the in-memory key registry the partner guards
   * check keys against (null otherwise). See docs/machine-access.md.
   */
  readonly partners: PartnerServices;
  /**
   * The DPoP proof verifier (RFC 9449) of the `dpop` section, `jti`s in
   * {@link consumeOnce}: the guards use it for DPoP-bound tokens, a token
   * endpoint to bind what it issues to the client's key (`cnf.jkt`).
   */
  readonly dpop: DPoPProofs;
  /**
   * Answers a request under `/auth/` or for `/.well-known/jwks.json` and, with
   * `oauth.enabled`, under `/oauth/` and for `/.well-known/oauth-authorization-server`.
   * Web-standard in and out; never throws.
   */
  handle(request: Request, client: ClientContext): Promise<Response>;
  /** Builds a guard for your own routes. */
  guard(options?: GuardOptions): Guard;
  /** Who is calling, honouring `trustProxy`. */
  clientContext(remoteAddress: string | undefined, headers: HeaderReader): ClientContext;
  /** Stops background work and closes the store it opened. */
  close(): Promise<void>;
}
