import type { GatehouseConfig } from '../config/resolve.js';
import type { AccessTokenService } from '../core/access-token.js';
import type { AuthService, ClientContext } from '../core/auth-service.js';
import type { Clock } from '../core/clock.js';
import type { ConsumeOnce } from '../core/consume-once.js';
import type { KeyRing } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { RevocationList } from '../core/revocation-list.js';
import type { DPoPProofs } from '../dpop/proofs.js';
import type { AuditEvent, Store } from '../store/store.js';

/** What the OAuth endpoints need from the engine: the same sessions, tokens and stores as `/auth`. */
export interface OAuthDeps {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  /** The user access tokens (`at+jwt`) that cookie sessions get too. */
  readonly tokens: AccessTokenService;
  readonly auth: AuthService;
  readonly revocations: RevocationList;
  readonly consumeOnce: ConsumeOnce;
  readonly logger: Logger;
  readonly audit: (event: AuditEvent) => Promise<void>;
  /** DPoP proofs (RFC 9449): a token request with one gets tokens bound to its key. */
  readonly dpop: DPoPProofs;
}

/** One endpoint: a Web request in, a Web response out. */
export type OAuthHandler = (request: Request, client: ClientContext) => Promise<Response>;

/** The issuer the metadata names and the authorization response carries (`iss`, RFC 9207). */
export function issuerOf(config: GatehouseConfig): string {
  return config.accessToken.issuer;
}

/** An endpoint's absolute URL, on the public origin. */
export function endpointURL(config: GatehouseConfig, path: string): string {
  return new URL(path, config.publicOrigin).href;
}
