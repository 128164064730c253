import { z } from 'zod';
import { dpopSchema } from './dpop-schema.js';
import { partnersSchema } from './partners-schema.js';
import { oauthSchema } from './oauth-schema.js';
import { signaturesSchema } from './signatures-schema.js';
import { gatewaySchema } from './gateway.js';
import { oidcSchema } from './oidc-schema.js';

/**
 * The configuration schema. Everything has a secure default except `secret`,
 * which Gatehouse refuses to invent for a server (the demo generates one).
 * Durations carry their unit in the name.
 */

const origin = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL such as https://app.example.com` });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: 'an origin must use http: or https:' });
    return z.NEVER;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'an origin is scheme, host and port only, with no path, query or credentials' });
    return z.NEVER;
  }
  return url.origin;
});

const cookieName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a valid cookie name (RFC 6265 token, at most 64 characters)');

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** A `postgres:` or `postgresql:` URL. Messages never echo it: it may carry a password. */
const postgresURL = z.string().refine(
  (value) => {
    try {
      const { protocol } = new URL(value);
      return protocol === 'postgres:' || protocol === 'postgresql:';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// connection string' },
);

// The URL may carry a password, so no message here ever repeats it.
const redisURL = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0');

export const configSchema = z
  .object({
    /** TCP port to listen on. 0 picks a free port. */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Address to bind. */
    host: z.string().min(1).default('localhost'),
    /** Where the embedded database and generated files live. */
    dataDir: z.string().min(1).default('./.gatehouse'),
    database: z
      .object({
        /** SQLite file; defaults to `<dataDir>/gatehouse.db`. Unused when `url` is set. */
        path: z.string().min(1).optional(),
        /** PostgreSQL connection string. When set, PostgreSQL is the store instead of SQLite. */
        url: postgresURL.optional(),
        /** PostgreSQL schema holding Gatehouse's tables. */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier: a-z, 0-9 and _, not starting with a digit, at most 63 characters')
          .default('public'),
        /** `on-start`: every start brings the schema up to date. `manual`: only `gatehouse migrate` does; start refuses an old schema. */
        migrate: z.enum(['on-start', 'manual']).default('on-start'),
        /** Most PostgreSQL connections per instance. */
        poolSize: z.number().int().min(1).max(100).default(10),
        /** Bound on connecting to PostgreSQL and on each statement; past it requests get 503 STORE_UNAVAILABLE. */
        timeoutSeconds: seconds(1, 60).default(3),
      })
      .strict()
      .default({ schema: 'public', migrate: 'on-start', poolSize: 10, timeoutSeconds: 3 }),
    /** The browser origin the SPA is served from. Trusted for Origin checks; default issuer and audience. */
    publicOrigin: origin.default('http://localhost:8080'),
    /** Further origins allowed to make credentialed state-changing requests. */
    trustedOrigins: z.array(origin).default([]),
    /** At least 32 random bytes. All signing keys are derived from it. */
    secret: z.string().optional(),
    /** Read the secret from this file instead (trailing newline ignored). */
    secretFile: z.string().min(1).optional(),
    /**
     * Allow a plain-http public origin other than localhost. Cookies then lose
     * `Secure` and their `__Host-`/`__Secure-` prefixes. Never in production.
     */
    allowInsecureHttp: z.boolean().default(false),
    /** Proxy addresses whose `X-Forwarded-For` is believed. Empty: use the socket address. */
    trustProxy: z.array(z.string().min(1)).default([]),
    accessToken: z
      .object({
        ttlSeconds: seconds(10, 3600).default(300),
        /** Allowed clock skew when checking `exp` and `nbf`. */
        clockToleranceSeconds: seconds(0, 60).default(5),
        issuer: z.string().min(1).optional(),
        audience: z.string().min(1).optional(),
      })
      .strict()
      .default({ ttlSeconds: 300, clockToleranceSeconds: 5 }),
    signing: z
      .object({
        /**
         * HS256 (a key derived from the secret; nothing to publish) or an
         * asymmetric algorithm whose public keys are served at /.well-known/jwks.json.
         */
        algorithm: z.enum(['HS256', 'EdDSA', 'ES256', 'RS256']).default('HS256'),
        /** `keys rotate` publishes a new key this long before it starts signing, so JWKS caches see it first. */
        publishAheadSeconds: seconds(0, 7 * 86400).default(600),
        /** How often each instance re-reads the signing keys (picks up rotations made elsewhere). */
        syncIntervalSeconds: seconds(1, 3600).default(10),
        /** Read the keys from this JWK Set file of private keys instead of the store; the first key signs. */
        keysFile: z.string().min(1).optional(),
      })
      .strict()
      .default({ algorithm: 'HS256', publishAheadSeconds: 600, syncIntervalSeconds: 10 }),
    session: z
      .object({
        idleTimeoutSeconds: seconds(60, 90 * 86400).default(7 * 86400),
        absoluteTimeoutSeconds: seconds(60, 400 * 86400).default(30 * 86400),
        /** Requests presenting an already-rotated refresh token this soon after get the same successor. */
        refreshGraceSeconds: seconds(0, 60).default(10),
      })
      .strict()
      .default({ idleTimeoutSeconds: 7 * 86400, absoluteTimeoutSeconds: 30 * 86400, refreshGraceSeconds: 10 }),
    cookies: z
      .object({
        sameSite: z.enum(['lax', 'strict']).default('lax'),
        accessName: cookieName.optional(),
        refreshName: cookieName.optional(),
        anonymousName: cookieName.optional(),
        csrfName: cookieName.default('XSRF-TOKEN'),
        /** `/auth` keeps the refresh cookie off API requests; `/` is needed for transparent refresh. */
        refreshPath: z.enum(['/auth', '/']).default('/auth'),
        /**
         * `whole`: the access token in one HttpOnly cookie. `split`: its header and payload in a
         * cookie JavaScript can read (`claimsName`), its signature in the HttpOnly access cookie.
         */
        accessToken: z.enum(['whole', 'split']).default('whole'),
        claimsName: cookieName.optional(),
      })
      .strict()
      .default({ sameSite: 'lax', csrfName: 'XSRF-TOKEN', refreshPath: '/auth', accessToken: 'whole' }),
    csrf: z
      .object({
        headerName: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
          .transform((v) => v.toLowerCase())
          .default('x-xsrf-token'),
      })
      .strict()
      .default({ headerName: 'x-xsrf-token' }),
    login: z
      .object({
        /** Failures per account before each further attempt must wait. */
        accountFreeAttempts: z.number().int().min(1).max(100).default(5),
        /** Failures per client IP before each further attempt must wait. */
        ipFreeAttempts: z.number().int().min(1).max(10_000).default(30),
        /** The longest an account or IP is made to wait; lockouts always end. */
        maxDelaySeconds: seconds(1, 3600).default(900),
        /** Failures are forgotten after this long without one. */
        failureWindowSeconds: seconds(60, 86400).default(3600),
      })
      .strict()
      .default({ accountFreeAttempts: 5, ipFreeAttempts: 30, maxDelaySeconds: 900, failureWindowSeconds: 3600 }),
    redis: z
      .object({
        /** Shared login throttling and the revocation feed for many instances. Unset: in memory, one instance. */
        url: redisURL.optional(),
        /** Prefix of every key and channel, so deployments can share one Redis. */
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits or : . _ -')
          .default('gatehouse:'),
      })
      .strict()
      .default({ keyPrefix: 'gatehouse:' }),
    revocation: z
      .object({
        /**
         * The guard refuses tokens (503 REVOCATION_UNAVAILABLE) once the revocation list has not
         * been confirmed current (a store read, or a live Redis feed) for this long.
         */
        maxStalenessSeconds: seconds(1, 3600).default(10),
      })
      .strict()
      .default({ maxStalenessSeconds: 10 }),
    /** Largest accepted request body. */
    bodyLimitBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Serve this folder's files (an SPA build) on every path outside /auth. */
    staticDir: z.string().min(1).optional(),
    /** Clients that sign requests (RFC 9421) to APIs behind the signature guards. */
    signatures: signaturesSchema,
    /** How DPoP proofs (RFC 9449) are judged; see docs/machine-access.md. */
    dpop: dpopSchema,
    /** Partner keys bound to origins; see docs/machine-access.md. */
    partners: partnersSchema,
    /** Routes to upstream services and the decision endpoint; see docs/gateway.md. */
    gateway: gatewaySchema,
    /** OpenID Connect providers and trusted login apps; see docs/oidc.md. */
    oidc: oidcSchema,
    /** Gatehouse as an OAuth authorization server for native apps and machine clients; see docs/native-apps.md. */
    oauth: oauthSchema,
  })
  .strict();

/** The configuration as written in a file or assembled from the environment. */
export type ConfigInput = z.input<typeof configSchema>;
/** The configuration after validation, before defaults are resolved against each other. */
export type ParsedConfig = z.output<typeof configSchema>;
