import type { KeyObject } from 'node:crypto';
import { configError, type GatehouseConfig } from './config/resolve.js';
import type { Clock } from './core/clock.js';
import { SigningKeyFile } from './core/key-file.js';
import type { Logger } from './core/logger.js';
import { ensureActiveSigningKey, SigningKeySet } from './core/signing-keys.js';
import type { Store } from './store/store.js';

// The parts of start-up that depend on the configuration: Redis only when named, signing keys only when asymmetric.

/**
 * How long a retired signing key keeps verifying and stays in the JWKS after
 * its successor took over: the longest a token it signed can live (lifetime
 * plus leeway), plus one key-sync interval (an instance that has not yet seen
 * an immediate rotation keeps signing with the old key until its next sync),
 * plus a minute of margin.
 */
export function signingKeyRetentionMs(config: GatehouseConfig): number {
  const { ttlSeconds, clockToleranceSeconds } = config.accessToken;
  return (ttlSeconds + clockToleranceSeconds + config.signing.syncIntervalSeconds + 60) * 1000;
}

/**
 * Opens Redis and the login throttle, revocation feed and consume-once built on it. The
 * modules (and ioredis) are loaded only for a configuration that names Redis.
 */
export async function connectRedis(url: string, config: GatehouseConfig, clock: Clock, logger: Logger) {
  const [{ openRedis }, { RedisLoginThrottle }, { RedisRevocationFeed }, { RedisConsumeOnce }] = await Promise.all([
    import('./redis/connection.js'),
    import('./redis/redis-login-throttle.js'),
    import('./redis/redis-revocation-feed.js'),
    import('./redis/redis-consume-once.js'),
  ]);
  const redis = openRedis({ url, keyPrefix: config.redis.keyPrefix }, logger);
  return {
    redis,
    revocationFeed: new RedisRevocationFeed(redis, logger),
    loginThrottle: new RedisLoginThrottle(redis.commands, { ...config.login, keyPrefix: config.redis.keyPrefix, logger }, clock),
    consumeOnce: new RedisConsumeOnce(redis.commands, { keyPrefix: config.redis.keyPrefix }, clock),
  };
}

/**
 * With an asymmetric algorithm: makes sure a key of that algorithm signs
 * (creating the first one), loads the key set and checks it can sign.
 * Refuses to start (`CONFIG_INVALID`) when it cannot: better than a server
 * whose every login fails.
 */
export async function openSigningKeys(
  config: GatehouseConfig,
  store: Store,
  encryptionKey: KeyObject,
  clock: Clock,
  logger: Logger,
): Promise<SigningKeySet | null> {
  const { algorithm, keysFile } = config.signing;
  if (algorithm === 'HS256') {
    if (keysFile !== undefined) {
      throw configError(['signing.keysFile: needs an asymmetric signing.algorithm (EdDSA, ES256 or RS256); HS256 keys come from the secret']);
    }
    return null;
  }
  const retainMs = signingKeyRetentionMs(config);
  if (keysFile === undefined) {
    const added = await ensureActiveSigningKey(store, algorithm, encryptionKey, clock, retainMs);
    if (added !== null) logger.info({ kid: added.kid, alg: added.alg }, 'created a signing key');
  }
  const keySet = new SigningKeySet(keysFile === undefined ? store : new SigningKeyFile(keysFile, encryptionKey), encryptionKey, clock, {
    retainMs,
    onProblem: (message, kid) => logger.error({ kid }, message),
  });
  await keySet.sync();
  let signingAlg: string;
  try {
    signingAlg = keySet.signer().header.alg;
  } catch {
    throw configError([
      keysFile === undefined
        ? `signing.algorithm: the active ${algorithm} signing key cannot be used (was the secret changed?); run \`gatehouse keys rotate --now\``
        : `signing.keysFile: the first key in ${keysFile} cannot sign`,
    ]);
  }
  if (signingAlg !== algorithm) {
    throw configError([`signing.keysFile: the first key in ${keysFile ?? 'the file'} is ${signingAlg}, but signing.algorithm is ${algorithm}`]);
  }
  return keySet;
}
