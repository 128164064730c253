import { configError } from './config/resolve.js';
import { AccessTokenService } from './core/access-token.js';
import { AuthService, type ClientContext } from './core/auth-service.js';
import { StoreConsumeOnce, type ConsumeOnce } from './core/consume-once.js';
import { systemClock } from './core/clock.js';
import { deriveKeyRing, secretProblem } from './core/keys.js';
import { createDPoPProofs } from './dpop/proofs.js';
import { MemoryLoginThrottle, type LoginThrottle } from './core/login-throttle.js';
import { PasswordHasher } from './core/password.js';
import { purgeExpiredSigningKeys, SigningKeySet } from './core/signing-keys.js';
import { RevocationList } from './core/revocation-list.js';
import { createAuthRoutes } from './http/auth-routes.js';
import { resolveClientIP } from './http/client-ip.js';
import { createGuard, type GuardAnswer, type GuardOutcome, type GuardRequest } from './http/guard.js';
import { createJWKSHandler, isJWKSURL } from './http/jwks-route.js';
import { SessionCookies } from './http/session-cookies.js';
import { isOAuthPath } from './oauth/oauth-paths.js';
import { createOIDCRoutes } from './oidc/oidc-routes.js';
import { openPartnerServices, PARTNER_CSRF_PATH, type PartnerServices } from './partners/partners.js';
import type { SignatureVerifier } from './signatures/verifier.js';
import { openConfiguredStore } from './store/open-store.js';
import type { AuditEvent, Store } from './store/store.js';
import { connectRedis, openSigningKeys, signingKeyRetentionMs } from './gatehouse-startup.js';
import type { CreateGatehouseOptions, Gatehouse } from './gatehouse-types.js';

export { signingKeyRetentionMs } from './gatehouse-startup.js';
export type { CreateGatehouseOptions, Gatehouse, Guard } from './gatehouse-types.js';

/** How long start-up waits for Redis before serving without it (sign-in refused, revocations polled). */
const REDIS_START_WAIT_MS = 5_000;

/**
 * Assembles Gatehouse from a validated configuration. Refuses to start
 * (`CONFIG_INVALID`) without a strong secret.
 *
 * @example
 * ```ts
 * const gatehouse = await createGatehouse({ config: loadConfig({ env: process.env }) });
 * const requireUser = gatehouse.guard();
 * ```
 */
export async function createGatehouse(options: CreateGatehouseOptions): Promise<Gatehouse> {
  const { config } = options;
  const problem = secretProblem(config.secret);
  if (problem !== null || config.secret === undefined) throw configError([`secret: ${problem ?? 'missing'}`]);

  const clock = options.clock ?? systemClock;
  // What a configuration does not use is not loaded: every module kept in memory makes each
  // garbage collection, and so each request, a little dearer (BENCHMARKS.md). So pino only
  // without a logger of the caller's, ioredis only with Redis, pg only with PostgreSQL.
  const logger = options.logger ?? (await import('./core/logger.js')).createLogger(config.logLevel);
  const ownStore = options.store === undefined;
  let store: Store;
  if (options.store === undefined) {
    store = await openConfiguredStore(config, {
      schema: config.database.migrate === 'manual' ? 'require-current' : 'migrate',
      onIdleError: (error) => logger.warn({ err: error }, 'an idle database connection failed; it will be replaced'),
    });
  } else {
    store = options.store;
    await store.migrate();
  }

  const keys = deriveKeyRing(config.secret);
  let signingKeys: SigningKeySet | null;
  try {
    signingKeys = await openSigningKeys(config, store, keys.signingKeyEncryption, clock, logger);
  } catch (error) {
    if (ownStore) await store.close(); // an open pool would keep the process alive after a failed start
    throw error;
  }
  const tokens = new AccessTokenService(signingKeys ?? keys.accessToken, config.accessToken, clock);
  // With Redis, throttle counters and revocations are shared by every instance; without it, this process keeps them.
  const shared = config.redis.url === undefined ? undefined : await connectRedis(config.redis.url, config, clock, logger);
  const redis = shared?.redis;
  if (redis !== undefined && !(await redis.ready(REDIS_START_WAIT_MS))) {
    logger.error('redis is not reachable yet: sign-in answers 503 THROTTLE_UNAVAILABLE until it is; revocations are read from the store meanwhile');
  }
  const revocations = new RevocationList(store, clock, {
    // As long as the longest-lived token a revocation must stop: a user's access token, or a machine client's.
    retentionMs: (Math.max(config.accessToken.ttlSeconds, config.oauth.enabled ? config.oauth.clientTokenTtlSeconds : 0) + config.accessToken.clockToleranceSeconds) * 1000 + 60_000,
    maxStalenessMs: config.revocation.maxStalenessSeconds * 1000,
    ...(shared === undefined ? {} : { feed: shared.revocationFeed }),
  });
  try {
    await revocations.sync();
  } catch (error) {
    // A pool or Redis connection left open would keep the process alive after a failed start.
    await revocations.close();
    await redis?.close();
    if (ownStore) await store.close();
    throw error;
  }
  const throttle: LoginThrottle = shared?.loginThrottle ?? new MemoryLoginThrottle(config.login, clock);

  const logAudit = (event: AuditEvent): void => {
    logger.info({ audit: event.type, userId: event.userId ?? undefined, sessionId: event.sessionId ?? undefined, ip: event.ip ?? undefined }, 'audit');
  };
  const audit = async (event: AuditEvent): Promise<void> => {
    logAudit(event);
    await store.appendAudit(event);
  };
  const hasher = new PasswordHasher();
  // The dummy hash for unknown usernames is computed now, not on the first failed login (which would then be slower).
  await hasher.warmUp();
  const auth = new AuthService({
    config,
    store,
    clock,
    keys,
    tokens,
    hasher,
    revocations,
    throttle,
    audit,
    logAudit,
  });
  const cookies = new SessionCookies(config.cookies);
  const consumeOnce: ConsumeOnce = shared?.consumeOnce ?? new StoreConsumeOnce(store, clock);
  const dpop = createDPoPProofs({ config: config.dpop, consumeOnce, nonceKey: keys.dpopNonce, clock });
  // Machine clients' tokens (oauth.enabled): checked by guards with requireScope, issued at /oauth/token.
  const clientTokens = config.oauth.enabled
    ? new (await import('./oauth/client-token.js')).ClientTokenService(signingKeys, keys.clientToken, {
        issuer: config.accessToken.issuer,
        audience: config.oauth.clientTokenAudience,
        ttlSeconds: config.oauth.clientTokenTtlSeconds,
        clockToleranceSeconds: config.accessToken.clockToleranceSeconds,
      }, clock)
    : null;
  const guardDeps = { config, keys, tokens, revocations, auth, cookies, clock, dpop, clientTokens };
  const guard = promised(createGuard(guardDeps));
  const routes = createAuthRoutes({ config, auth, store, clock, keys, tokens, cookies, logger, guard });
  // Signed requests: the verifier's code is loaded only when clients that sign are configured.
  const signatures =
    config.signatures.keys.length === 0
      ? null
      : (await import('./signatures/from-config.js')).signatureVerifierFromConfig(config.signatures, consumeOnce, clock);
  const oidc = await createOIDCRoutes({ config, auth, store, clock, keys, tokens, cookies, logger, revocations, once: consumeOnce, hasher, audit, guard });
  const jwks = createJWKSHandler(signingKeys);
  let partners: PartnerServices;
  try {
    partners = await openPartnerServices({ config, store, clock, logger, redis, keys, syncIntervalMs: options.revocationSyncIntervalMs ?? 250 });
  } catch (error) {
    await revocations.close();
    await redis?.close();
    if (ownStore) await store.close();
    throw error;
  }
  // The OAuth authorization server (native apps, machine clients): loaded only when enabled.
  const oauth = clientTokens === null
    ? null
    : (await import('./oauth/oauth-routes.js')).createOAuthRoutes({ config, store, clock, keys, tokens, auth, revocations, consumeOnce, logger, audit, dpop }, clientTokens);

  const stopPolling = revocations.startPolling({ intervalMs: options.revocationSyncIntervalMs ?? 250, logger });
  let purging = false;
  const purgeTimer = setInterval(() => {
    // A purge still running (a large backlog, a slow database) is never joined by a second one.
    if (purging) return;
    purging = true;
    store
      .purgeExpired(clock.now() - 86_400_000)
      .catch((error: unknown) => logger.warn({ err: error }, 'purging expired sessions failed'))
      .finally(() => {
        purging = false;
      });
  }, 3_600_000);
  purgeTimer.unref();
  const keySyncTimer =
    signingKeys === null
      ? undefined
      : setInterval(() => {
          const retainMs = signingKeyRetentionMs(config);
          signingKeys
            .sync()
            // Keys in a file are the operator's to remove; only the store's are purged here.
            .then(() => (config.signing.keysFile === undefined ? purgeExpiredSigningKeys(store, clock.now(), retainMs, 86_400_000) : 0))
            .catch((error: unknown) => logger.warn({ err: error }, 'signing key sync failed; keeping the last known keys'));
        }, config.signing.syncIntervalSeconds * 1000);
  keySyncTimer?.unref();

  let closed = false;
  return {
    config,
    store,
    auth,
    logger,
    clock,
    revocations,
    signingKeys,
    consumeOnce,
    dpop,
    providerTokens: oidc.providerTokens,
    get signatures(): SignatureVerifier {
      if (signatures === null) {
        throw new TypeError('no signatures.keys are configured: list the clients that sign in the signatures section (docs/machine-access.md)');
      }
      return signatures;
    },
    partners,
    handle: (request, client) => {
      if (isJWKSURL(request.url)) return Promise.resolve(jwks(request));
      const { pathname } = new URL(request.url);
      if (oauth !== null && isOAuthPath(pathname)) return oauth.handle(request, client);
      // A partner's page asks for its CSRF token here, cross-origin (src/partners); only with partners enabled.
      if (pathname === PARTNER_CSRF_PATH && partners.gate !== null) return partners.gate.csrfEndpoint(request);
      // OpenID Connect and login apps: a module of their own (src/oidc), beside the /auth routes.
      return oidc.owns(pathname) ? oidc.handle(request, client) : routes(request, client);
    },
    guard: (guardOptions) => {
      const check = createGuard(guardDeps, guardOptions);
      return Object.assign(promised(check), { check });
    },
    clientContext: (remoteAddress, headers) => ({
      ip: resolveClientIP(remoteAddress, headers.get('x-forwarded-for'), config.trustProxy),
      userAgent: headers.get('user-agent'),
    }),
    async close() {
      if (closed) return;
      closed = true;
      stopPolling();
      await partners.close();
      clearInterval(purgeTimer);
      clearInterval(keySyncTimer);
      await revocations.close();
      await redis?.close();
      if (ownStore) await store.close();
    },
  };
}

/** A guard's verdict as a Promise, for callers that always wait. */
function promised(check: (request: GuardRequest, client: ClientContext) => GuardAnswer): (request: GuardRequest, client: ClientContext) => Promise<GuardOutcome> {
  return async (request, client) => check(request, client);
}
