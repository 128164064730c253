import type { DPoPConfig } from './dpop-schema.js';
import type { GatewayConfig } from './gateway.js';
import type { OAuthConfig } from './oauth-schema.js';
import type { OIDCConfig } from './oidc-resolve.js';
import type { ParsedPartners } from './partners-schema.js';
import type { SignaturesConfig } from './signatures-config.js';

// The resolved configuration every part of the server reads: defaults filled in, derived fields worked out.

/** Cookie settings after defaults and prefixes are worked out. */
export interface CookieConfig {
  readonly secure: boolean;
  readonly sameSite: 'Lax' | 'Strict';
  readonly accessName: string;
  /**
   * `split`: the access token travels as two cookies, `claimsName` (header and
   * payload, readable by JavaScript) and `accessName` (the signature, HttpOnly).
   */
  readonly accessToken: 'whole' | 'split';
  readonly claimsName: string;
  readonly refreshName: string;
  readonly refreshPath: '/auth' | '/';
  readonly anonymousName: string;
  readonly csrfName: string;
}

/** Which store Gatehouse opens, and how. */
export interface DatabaseConfig {
  /** `postgres` when `database.url` is set; otherwise the SQLite file at `databasePath`. */
  readonly kind: 'sqlite' | 'postgres';
  /** The PostgreSQL connection string; may hold a password, so never log it. */
  readonly url: string | undefined;
  readonly schema: string;
  readonly migrate: 'on-start' | 'manual';
  readonly poolSize: number;
  readonly timeoutSeconds: number;
}

/** The validated, normalised and frozen configuration every part of Gatehouse reads. */
export interface GatehouseConfig {
  readonly port: number;
  readonly host: string;
  /** Absolute. */
  readonly dataDir: string;
  /** Absolute path of the SQLite file. */
  readonly databasePath: string;
  readonly database: DatabaseConfig;
  readonly publicOrigin: string;
  /** `publicOrigin` plus the configured trusted origins. */
  readonly trustedOrigins: readonly string[];
  /** Undefined when none was configured; {@link createGatehouse} refuses to start then. */
  readonly secret: string | undefined;
  readonly allowInsecureHttp: boolean;
  readonly trustProxy: readonly string[];
  readonly accessToken: {
    readonly ttlSeconds: number;
    readonly clockToleranceSeconds: number;
    readonly issuer: string;
    readonly audience: string;
  };
  /** How access tokens are signed; see docs/keys.md. */
  readonly signing: {
    readonly algorithm: 'HS256' | 'EdDSA' | 'ES256' | 'RS256';
    readonly publishAheadSeconds: number;
    readonly syncIntervalSeconds: number;
    /** Absolute path of a JWK Set file holding the keys, or undefined: the keys live in the store. */
    readonly keysFile: string | undefined;
  };
  readonly session: {
    readonly idleTimeoutSeconds: number;
    readonly absoluteTimeoutSeconds: number;
    readonly refreshGraceSeconds: number;
  };
  readonly cookies: CookieConfig;
  readonly csrfHeaderName: string;
  readonly login: {
    readonly accountFreeAttempts: number;
    readonly ipFreeAttempts: number;
    readonly maxDelaySeconds: number;
    readonly failureWindowSeconds: number;
  };
  readonly redis: {
    /** Undefined: throttling and revocations stay in this process's memory. May hold a password: never log it. */
    readonly url: string | undefined;
    readonly keyPrefix: string;
  };
  readonly revocation: {
    readonly maxStalenessSeconds: number;
  };
  readonly bodyLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly staticDir: string | undefined;
  /** Keys and rules for signed requests (RFC 9421); see docs/machine-access.md. */
  readonly signatures: SignaturesConfig;
  /** How DPoP proofs are judged (RFC 9449); see docs/machine-access.md. */
  readonly dpop: DPoPConfig;
  /** Partner keys bound to origins; see docs/machine-access.md. */
  readonly partners: ParsedPartners;
  /** Upstream routes and the decision endpoint; see docs/gateway.md. */
  readonly gateway: GatewayConfig;
  /** OpenID Connect providers and trusted login apps (docs/oidc.md). */
  readonly oidc: OIDCConfig;
  /** The OAuth authorization server for native apps and machine clients (docs/native-apps.md). */
  readonly oauth: OAuthConfig;
}
