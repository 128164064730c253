import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { configError, resolveConfig, type GatehouseConfig } from './resolve.js';
import type { ConfigInput } from './schema.js';

type Kind = 'string' | 'number' | 'boolean' | 'list';

/**
 * Environment variables Gatehouse reads, and the config field each one sets.
 * An explicit table rather than a naming rule, so that `docs/configuration.md`
 * and the code cannot disagree about spelling.
 */
export const ENVIRONMENT_VARIABLES: readonly (readonly [string, string, Kind])[] = [
  ['GATEHOUSE_PORT', 'port', 'number'],
  ['GATEHOUSE_HOST', 'host', 'string'],
  ['GATEHOUSE_DATA_DIR', 'dataDir', 'string'],
  ['GATEHOUSE_DATABASE_PATH', 'database.path', 'string'],
  ['GATEHOUSE_DATABASE_URL', 'database.url', 'string'],
  ['GATEHOUSE_DATABASE_SCHEMA', 'database.schema', 'string'],
  ['GATEHOUSE_DATABASE_MIGRATE', 'database.migrate', 'string'],
  ['GATEHOUSE_DATABASE_POOL_SIZE', 'database.poolSize', 'number'],
  ['GATEHOUSE_DATABASE_TIMEOUT_SECONDS', 'database.timeoutSeconds', 'number'],
  ['GATEHOUSE_PUBLIC_ORIGIN', 'publicOrigin', 'string'],
  ['GATEHOUSE_TRUSTED_ORIGINS', 'trustedOrigins', 'list'],
  ['GATEHOUSE_SECRET', 'secret', 'string'],
  ['GATEHOUSE_SECRET_FILE', 'secretFile', 'string'],
  ['GATEHOUSE_ALLOW_INSECURE_HTTP', 'allowInsecureHttp', 'boolean'],
  ['GATEHOUSE_TRUST_PROXY', 'trustProxy', 'list'],
  ['GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS', 'accessToken.ttlSeconds', 'number'],
  ['GATEHOUSE_ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS', 'accessToken.clockToleranceSeconds', 'number'],
  ['GATEHOUSE_ACCESS_TOKEN_ISSUER', 'accessToken.issuer', 'string'],
  ['GATEHOUSE_ACCESS_TOKEN_AUDIENCE', 'accessToken.audience', 'string'],
  ['GATEHOUSE_SIGNING_ALGORITHM', 'signing.algorithm', 'string'],
  ['GATEHOUSE_SIGNING_PUBLISH_AHEAD_SECONDS', 'signing.publishAheadSeconds', 'number'],
  ['GATEHOUSE_SIGNING_SYNC_INTERVAL_SECONDS', 'signing.syncIntervalSeconds', 'number'],
  ['GATEHOUSE_SIGNING_KEYS_FILE', 'signing.keysFile', 'string'],
  ['GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS', 'session.idleTimeoutSeconds', 'number'],
  ['GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS', 'session.absoluteTimeoutSeconds', 'number'],
  ['GATEHOUSE_REFRESH_GRACE_SECONDS', 'session.refreshGraceSeconds', 'number'],
  ['GATEHOUSE_COOKIE_SAME_SITE', 'cookies.sameSite', 'string'],
  ['GATEHOUSE_COOKIE_REFRESH_PATH', 'cookies.refreshPath', 'string'],
  ['GATEHOUSE_COOKIE_ACCESS_TOKEN', 'cookies.accessToken', 'string'],
  ['GATEHOUSE_REDIS_URL', 'redis.url', 'string'],
  ['GATEHOUSE_REDIS_KEY_PREFIX', 'redis.keyPrefix', 'string'],
  ['GATEHOUSE_REVOCATION_MAX_STALENESS_SECONDS', 'revocation.maxStalenessSeconds', 'number'],
  ['GATEHOUSE_BODY_LIMIT_BYTES', 'bodyLimitBytes', 'number'],
  ['GATEHOUSE_LOG_LEVEL', 'logLevel', 'string'],
  ['GATEHOUSE_STATIC_DIR', 'staticDir', 'string'],
];

export interface LoadConfigOptions {
  /** An explicit config file (`--config`); it must exist. Otherwise `gatehouse.config.json` in `cwd`, if present. */
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags; they win over the file and the environment. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly cwd?: string;
}

/** Where configuration is looked for when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'gatehouse.config.json';

/**
 * Assembles configuration from defaults, a JSON file, `GATEHOUSE_*` variables
 * and flags (in rising precedence), then validates it once. Throws a
 * `GatehouseError` with code `CONFIG_INVALID` whose message names each bad field.
 *
 * @example
 * ```ts
 * const config = loadConfig({ env: process.env, overrides: { port: 9000 } });
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const cwd = options.cwd ?? process.cwd();
  const sources = new Map<string, string>();
  const input: Record<string, unknown> = {};

  const filePath = options.file === undefined ? resolvePath(cwd, DEFAULT_CONFIG_FILE) : resolvePath(cwd, options.file);
  if (options.file !== undefined || existsSync(filePath)) {
    const fromFile = readConfigFile(filePath);
    for (const [path, value] of flatten(fromFile)) setPath(input, path, value, sources, filePath);
  }

  const env = options.env ?? {};
  const problems: string[] = [];
  for (const [name, path, kind] of ENVIRONMENT_VARIABLES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = parseEnvValue(raw, kind);
    if (value === undefined) {
      problems.push(`${path}: ${name} must be ${kind === 'number' ? 'a number' : 'true or false'}`);
      continue;
    }
    setPath(input, path, value, sources, name);
  }

  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(input, path, value, sources, 'command line');
  }
  // Unparseable variables are left out of `input` and reported together with everything else that is wrong.
  return resolveConfig(input as ConfigInput, { cwd, sources, problems });
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError([`config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw configError([`config file ${path}: not valid JSON (${(error as Error).message})`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw configError([`config file ${path}: must hold a JSON object`]);
  }
  return parsed as Record<string, unknown>;
}

function parseEnvValue(raw: string, kind: Kind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number': {
      const n = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return undefined;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
}

/** Yields `[dotted.path, leafValue]`; nested plain objects are descended, arrays are leaves. */
function* flatten(value: Record<string, unknown>, prefix = ''): Generator<[string, unknown]> {
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length > 0) {
      yield* flatten(inner as Record<string, unknown>, path);
    } else {
      yield [path, inner];
    }
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

function setPath(
  target: Record<string, unknown>,
  path: string,
  value: unknown,
  sources: Map<string, string>,
  source: string,
): void {
  const keys = path.split('.');
  let node = target;
  for (const [i, key] of keys.entries()) {
    // A config file is data; it must not reach Object.prototype.
    if (FORBIDDEN_KEYS.has(key)) throw configError([`${path}: not a configuration field (from ${source})`]);
    if (i === keys.length - 1) {
      node[key] = value;
    } else {
      const next = node[key];
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
        node[key] = {};
      }
      node = node[key] as Record<string, unknown>;
    }
  }
  sources.set(path, source);
}
