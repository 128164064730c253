import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { CookieConfig, GatehouseConfig } from './config-types.js';
import { configError, describeIssues, fromWhere } from './config-problems.js';
import { resolveDPoP } from './dpop-schema.js';
import { gatewayProblems, toGatewayConfig } from './gateway.js';
import { resolveOIDC } from './oidc-resolve.js';
import { configSchema, type ConfigInput } from './schema.js';
import { resolveSignatures } from './signatures-config.js';

export { configError } from './config-problems.js';
export type { CookieConfig, DatabaseConfig, GatehouseConfig } from './config-types.js';
export type { GatewayConfig, GatewayRoute } from './gateway.js';

function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '127.0.0.1' ||
    hostname === '[::1]'
  );
}

/**
 * Validates `input`, fills in defaults and derives what depends on other
 * fields (cookie names, issuer, paths). Throws `CONFIG_INVALID` naming each bad
 * field; `sources` maps a field path to where its value came from.
 */
export function resolveConfig(
  input: ConfigInput,
  options: {
    readonly cwd?: string;
    readonly sources?: ReadonlyMap<string, string>;
    /** Problems found before validation (unparseable environment variables), reported together with these. */
    readonly problems?: readonly string[];
  } = {},
): GatehouseConfig {
  const sources = options.sources ?? new Map<string, string>();
  const earlier = options.problems ?? [];
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw configError([...earlier, ...describeIssues(parsed.error, sources)]);
  const c = parsed.data;
  const problems: string[] = [...earlier];
  const cwd = options.cwd ?? process.cwd();

  const publicURL = new URL(c.publicOrigin);
  const plainHTTP = publicURL.protocol === 'http:';
  if (plainHTTP && !isLoopbackHost(publicURL.hostname) && !c.allowInsecureHttp) {
    problems.push(
      `publicOrigin: ${c.publicOrigin} is plain http on a non-local host; use https, or set allowInsecureHttp: true (never in production)${fromWhere(sources, 'publicOrigin')}`,
    );
  }
  for (const [i, trusted] of c.trustedOrigins.entries()) {
    const url = new URL(trusted);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !c.allowInsecureHttp) {
      problems.push(
        `trustedOrigins.${i}: ${trusted} is plain http on a non-local host; use https, or set allowInsecureHttp: true (never in production)${fromWhere(sources, 'trustedOrigins')}`,
      );
    }
  }
  // Browsers keep Secure cookies on http://localhost, so only a non-local plain-http origin loses them.
  const secure = !(plainHTTP && !isLoopbackHost(publicURL.hostname));

  const prefixed = (prefix: '__Host-' | '__Secure-', name: string) => (secure ? `${prefix}${name}` : name);
  const cookies: CookieConfig = {
    secure,
    sameSite: c.cookies.sameSite === 'strict' ? 'Strict' : 'Lax',
    accessName: c.cookies.accessName ?? prefixed('__Host-', 'gh_access'),
    accessToken: c.cookies.accessToken,
    claimsName: c.cookies.claimsName ?? prefixed('__Host-', 'gh_claims'),
    refreshName:
      c.cookies.refreshName ?? prefixed(c.cookies.refreshPath === '/' ? '__Host-' : '__Secure-', 'gh_refresh'),
    refreshPath: c.cookies.refreshPath,
    anonymousName: c.cookies.anonymousName ?? prefixed('__Host-', 'gh_anon'),
    csrfName: c.cookies.csrfName,
  };
  for (const [field, name] of [
    ['cookies.accessName', cookies.accessName],
    ['cookies.claimsName', cookies.claimsName],
    ['cookies.refreshName', cookies.refreshName],
    ['cookies.anonymousName', cookies.anonymousName],
    ['cookies.csrfName', cookies.csrfName],
  ] as const) {
    if (!secure && (name.startsWith('__Host-') || name.startsWith('__Secure-'))) {
      problems.push(`${field}: prefixed cookie names need a secure origin; ${c.publicOrigin} is not one${fromWhere(sources, field)}`);
    }
  }
  if (cookies.refreshName.startsWith('__Host-') && cookies.refreshPath !== '/') {
    problems.push(
      `cookies.refreshName: a __Host- cookie must have Path=/; set cookies.refreshPath to "/" or use __Secure-${fromWhere(sources, 'cookies.refreshName', 'cookies.refreshPath')}`,
    );
  }
  const names = [cookies.accessName, cookies.claimsName, cookies.refreshName, cookies.anonymousName, cookies.csrfName];
  if (new Set(names).size !== names.length) {
    problems.push(
      `cookies: every cookie needs its own name${fromWhere(sources, 'cookies.accessName', 'cookies.claimsName', 'cookies.refreshName', 'cookies.anonymousName', 'cookies.csrfName')}`,
    );
  }

  if (c.session.absoluteTimeoutSeconds < c.session.idleTimeoutSeconds) {
    problems.push(
      `session.absoluteTimeoutSeconds: must not be shorter than session.idleTimeoutSeconds${fromWhere(sources, 'session.absoluteTimeoutSeconds', 'session.idleTimeoutSeconds')}`,
    );
  }
  if (c.session.idleTimeoutSeconds <= c.accessToken.ttlSeconds) {
    problems.push(
      `session.idleTimeoutSeconds: must be longer than accessToken.ttlSeconds${fromWhere(sources, 'session.idleTimeoutSeconds', 'accessToken.ttlSeconds')}`,
    );
  }

  let secret = c.secret;
  const dataDir = resolvePath(cwd, c.dataDir);
  // Zero configuration: a secret kept in the data directory (the demo writes one there) is used when none is given.
  const secretFile = c.secretFile ?? (c.secret === undefined && existsSync(resolvePath(dataDir, 'secret')) ? resolvePath(dataDir, 'secret') : undefined);
  if (c.secret !== undefined && c.secretFile !== undefined) {
    problems.push(`secretFile: set either secret or secretFile, not both${fromWhere(sources, 'secret', 'secretFile')}`);
  } else if (secretFile !== undefined) {
    try {
      secret = readFileSync(resolvePath(cwd, secretFile), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`secretFile: cannot read ${secretFile} (${code})${fromWhere(sources, 'secretFile')}`);
    }
  }

  const signatures = resolveSignatures(c.signatures, c.publicOrigin, cwd, problems, (field) => fromWhere(sources, field));
  const dpop = resolveDPoP(c.dpop, c.publicOrigin, problems, (field) => fromWhere(sources, field));
  const gateway = toGatewayConfig(c.gateway);
  const accessTokenAudience = c.accessToken.audience ?? c.publicOrigin;
  for (const problem of gatewayProblems(gateway, { signingAlgorithm: c.signing.algorithm, accessTokenAudience, cookieNames: names, refreshCookiePath: cookies.refreshPath })) {
    const field = problem.slice(0, problem.indexOf(':'));
    problems.push(`${problem}${fromWhere(sources, field, 'gateway')}`);
  }
  const oidc = resolveOIDC(
    c.oidc,
    { publicOrigin: c.publicOrigin, allowInsecureHttp: c.allowInsecureHttp, cwd, isLoopbackHost, fromWhere: (field) => fromWhere(sources, field) },
    problems,
  );

  if (problems.length > 0) throw configError(problems);

  const trustedOrigins = [...new Set([c.publicOrigin, ...c.trustedOrigins])];
  return deepFreeze({
    port: c.port,
    host: c.host,
    dataDir,
    databasePath: c.database.path === undefined ? resolvePath(dataDir, 'gatehouse.db') : resolvePath(cwd, c.database.path),
    database: {
      kind: c.database.url === undefined ? 'sqlite' : 'postgres',
      url: c.database.url,
      schema: c.database.schema,
      migrate: c.database.migrate,
      poolSize: c.database.poolSize,
      timeoutSeconds: c.database.timeoutSeconds,
    },
    publicOrigin: c.publicOrigin,
    trustedOrigins,
    secret,
    allowInsecureHttp: c.allowInsecureHttp,
    trustProxy: c.trustProxy,
    accessToken: {
      ttlSeconds: c.accessToken.ttlSeconds,
      clockToleranceSeconds: c.accessToken.clockToleranceSeconds,
      issuer: c.accessToken.issuer ?? c.publicOrigin,
      audience: accessTokenAudience,
    },
    signing: {
      algorithm: c.signing.algorithm,
      publishAheadSeconds: c.signing.publishAheadSeconds,
      syncIntervalSeconds: c.signing.syncIntervalSeconds,
      keysFile: c.signing.keysFile === undefined ? undefined : resolvePath(cwd, c.signing.keysFile),
    },
    session: c.session,
    cookies,
    csrfHeaderName: c.csrf.headerName,
    login: c.login,
    redis: { url: c.redis.url, keyPrefix: c.redis.keyPrefix },
    revocation: c.revocation,
    bodyLimitBytes: c.bodyLimitBytes,
    logLevel: c.logLevel,
    staticDir: c.staticDir === undefined ? undefined : resolvePath(cwd, c.staticDir),
    signatures,
    dpop,
    partners: c.partners,
    gateway,
    oidc,
    oauth: {
      enabled: c.oauth.enabled,
      codeTtlSeconds: c.oauth.codeTtlSeconds,
      clientTokenTtlSeconds: c.oauth.clientTokenTtlSeconds,
      clientTokenAudience: c.oauth.clientTokenAudience ?? accessTokenAudience,
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
