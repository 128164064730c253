import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, ENVIRONMENT_VARIABLES, loadConfig, type LoadConfigOptions } from '../../src/config/load.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { GatehouseError } from '../../src/core/errors.js';
import { DOCS_PLACEHOLDER_SECRET, secretProblem } from '../../src/core/keys.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse } from '../../src/gatehouse.js';

const GOOD_SECRET = 'Xq3vN8rT1wZ5yB7mK2pD9sF4hJ6lC0gA-config-test';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh empty directory standing in for the working directory. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  roots.push(dir);
  return dir;
}

let cwd: string;
beforeEach(() => {
  cwd = tempDir();
});

function writeJSON(path: string, value: unknown): string {
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function load(options: Omit<LoadConfigOptions, 'cwd'> = {}) {
  return loadConfig({ env: {}, cwd, ...options });
}

/** The CONFIG_INVALID error `fn` throws; fails the test when it throws something else or nothing. */
function configErrorOf(fn: () => unknown): GatehouseError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a CONFIG_INVALID error').toBeInstanceOf(GatehouseError);
  const error = caught as GatehouseError;
  expect(error.code).toBe('CONFIG_INVALID');
  return error;
}

async function asyncConfigErrorOf(promise: Promise<unknown>): Promise<GatehouseError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught, 'expected a CONFIG_INVALID error').toBeInstanceOf(GatehouseError);
  const error = caught as GatehouseError;
  expect(error.code).toBe('CONFIG_INVALID');
  return error;
}

describe('defaults', () => {
  it('resolve to a working local configuration with prefixed cookies', () => {
    const config = load();
    expect(config.port).toBe(8080);
    expect(config.host).toBe('localhost');
    expect(config.publicOrigin).toBe('http://localhost:8080');
    expect(config.trustedOrigins).toEqual(['http://localhost:8080']);
    expect(config.accessToken).toEqual({
      ttlSeconds: 300,
      clockToleranceSeconds: 5,
      issuer: 'http://localhost:8080',
      audience: 'http://localhost:8080',
    });
    expect(config.session).toEqual({ idleTimeoutSeconds: 7 * 86400, absoluteTimeoutSeconds: 30 * 86400, refreshGraceSeconds: 10 });
    expect(config.cookies).toEqual({
      secure: true,
      sameSite: 'Lax',
      accessName: '__Host-gh_access',
      accessToken: 'whole',
      claimsName: '__Host-gh_claims',
      refreshName: '__Secure-gh_refresh',
      refreshPath: '/auth',
      anonymousName: '__Host-gh_anon',
      csrfName: 'XSRF-TOKEN',
    });
    expect(config.csrfHeaderName).toBe('x-xsrf-token');
    expect(config.login).toEqual({ accountFreeAttempts: 5, ipFreeAttempts: 30, maxDelaySeconds: 900, failureWindowSeconds: 3600 });
    expect(config.bodyLimitBytes).toBe(16 * 1024);
    expect(config.logLevel).toBe('info');
    expect(config.allowInsecureHttp).toBe(false);
    expect(config.trustProxy).toEqual([]);
    expect(config.staticDir).toBeUndefined();
    expect(config.secret).toBeUndefined();
  });

  it('put the data directory and database under the working directory', () => {
    const config = load();
    expect(config.dataDir).toBe(join(cwd, '.gatehouse'));
    expect(config.databasePath).toBe(join(cwd, '.gatehouse', 'gatehouse.db'));
    const moved = load({ overrides: { dataDir: 'var/gh' } });
    expect(moved.databasePath).toBe(join(cwd, 'var', 'gh', 'gatehouse.db'));
    const explicit = load({ overrides: { dataDir: 'var/gh', 'database.path': 'db/main.sqlite' } });
    expect(explicit.databasePath).toBe(join(cwd, 'db', 'main.sqlite'));
  });

  it('derive issuer, audience and trusted origins from publicOrigin, normalised to an origin', () => {
    const config = load({
      overrides: { publicOrigin: 'https://App.Example.com:443/', trustedOrigins: ['https://admin.example.com', 'https://app.example.com'] },
    });
    expect(config.publicOrigin).toBe('https://app.example.com');
    expect(config.trustedOrigins).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(config.accessToken.issuer).toBe('https://app.example.com');
    expect(config.accessToken.audience).toBe('https://app.example.com');
    const pinned = load({ overrides: { publicOrigin: 'https://app.example.com', 'accessToken.issuer': 'urn:gh', 'accessToken.audience': 'api' } });
    expect([pinned.accessToken.issuer, pinned.accessToken.audience]).toEqual(['urn:gh', 'api']);
  });

  it('are frozen', () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cookies)).toBe(true);
    expect(Object.isFrozen(config.trustedOrigins)).toBe(true);
    expect(() => {
      (config.cookies as { secure: boolean }).secure = false;
    }).toThrow(TypeError);
  });
});

describe('sources and precedence', () => {
  it('ranks defaults < file < environment < overrides', () => {
    writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: 1111, host: 'file.local', logLevel: 'warn', session: { refreshGraceSeconds: 3 } });
    const fromFile = load();
    expect([fromFile.port, fromFile.host, fromFile.logLevel, fromFile.session.refreshGraceSeconds]).toEqual([1111, 'file.local', 'warn', 3]);
    // Untouched neighbours of a nested file value keep their defaults.
    expect(fromFile.session.idleTimeoutSeconds).toBe(7 * 86400);

    const env = { GATEHOUSE_PORT: '2222', GATEHOUSE_LOG_LEVEL: 'error' };
    const fromEnv = load({ env });
    expect([fromEnv.port, fromEnv.host, fromEnv.logLevel]).toEqual([2222, 'file.local', 'error']);

    const fromFlags = load({ env, overrides: { port: 3333, host: undefined } });
    expect([fromFlags.port, fromFlags.host, fromFlags.logLevel]).toEqual([3333, 'file.local', 'error']);
  });

  it('ignores empty environment variables', () => {
    writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: 1111 });
    expect(load({ env: { GATEHOUSE_PORT: '' } }).port).toBe(1111);
  });

  it('parses every kind of environment variable', () => {
    const config = load({
      env: {
        GATEHOUSE_PUBLIC_ORIGIN: 'http://app.internal:8000',
        GATEHOUSE_ALLOW_INSECURE_HTTP: 'true',
        GATEHOUSE_TRUSTED_ORIGINS: ' http://a.internal , http://b.internal:81,',
        GATEHOUSE_TRUST_PROXY: '10.0.0.1,10.0.0.2',
        GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '600',
        GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: '3600',
        GATEHOUSE_COOKIE_SAME_SITE: 'strict',
      },
    });
    expect(config.allowInsecureHttp).toBe(true);
    expect(config.trustedOrigins).toEqual(['http://app.internal:8000', 'http://a.internal', 'http://b.internal:81']);
    expect(config.trustProxy).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(config.accessToken.ttlSeconds).toBe(600);
    expect(config.session.idleTimeoutSeconds).toBe(3600);
    expect(config.cookies.sameSite).toBe('Strict');
    expect(load({ env: { GATEHOUSE_ALLOW_INSECURE_HTTP: '0' } }).allowInsecureHttp).toBe(false);
  });

  it('every documented environment variable reaches its field', () => {
    // A value each field accepts, so a typo in the table (wrong path) shows up as a wrong or missing value.
    const samples: Record<string, [string, unknown]> = {
      number: ['61', 61],
      boolean: ['true', true],
      list: ['http://localhost:9001', ['http://localhost:9001']],
    };
    const special: Record<string, [string, unknown]> = {
      GATEHOUSE_PUBLIC_ORIGIN: ['http://localhost:9000', 'http://localhost:9000'],
      GATEHOUSE_COOKIE_SAME_SITE: ['strict', 'strict'],
      GATEHOUSE_COOKIE_REFRESH_PATH: ['/', '/'],
      GATEHOUSE_COOKIE_ACCESS_TOKEN: ['split', 'split'],
      GATEHOUSE_LOG_LEVEL: ['warn', 'warn'],
      GATEHOUSE_BODY_LIMIT_BYTES: ['2048', 2048],
      GATEHOUSE_SECRET_FILE: ['secret.txt', 'secret.txt'],
      GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: ['3600', 3600],
      GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS: ['700000', 700000],
      GATEHOUSE_ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS: ['7', 7],
      GATEHOUSE_REFRESH_GRACE_SECONDS: ['7', 7],
      GATEHOUSE_DATABASE_URL: ['postgres://gatehouse@db.internal/gatehouse', 'postgres://gatehouse@db.internal/gatehouse'],
      GATEHOUSE_DATABASE_SCHEMA: ['gatehouse', 'gatehouse'],
      GATEHOUSE_DATABASE_MIGRATE: ['manual', 'manual'],
      GATEHOUSE_DATABASE_POOL_SIZE: ['20', 20],
      GATEHOUSE_DATABASE_TIMEOUT_SECONDS: ['2', 2],
      GATEHOUSE_REDIS_URL: ['redis://127.0.0.1:6390/2', 'redis://127.0.0.1:6390/2'],
      GATEHOUSE_REDIS_KEY_PREFIX: ['app1:', 'app1:'],
      GATEHOUSE_REVOCATION_MAX_STALENESS_SECONDS: ['30', 30],
      GATEHOUSE_SIGNING_ALGORITHM: ['EdDSA', 'EdDSA'],
    };
    writeFileSync(join(cwd, 'secret.txt'), GOOD_SECRET);
    for (const [name, path, kind] of ENVIRONMENT_VARIABLES) {
      const [raw, expected] = special[name] ?? samples[kind] ?? ['some-value', 'some-value'];
      const values = loadWithProbe({ [name]: raw });
      expect(values.has(path), `no probe for ${path}`).toBe(true);
      expect(values.get(path), `${name} → ${path}`).toEqual(expected);
    }
  });

  it('reads gatehouse.config.json from the working directory', () => {
    writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { publicOrigin: 'https://app.example.com', cookies: { sameSite: 'strict' } });
    const config = load();
    expect(config.publicOrigin).toBe('https://app.example.com');
    expect(config.cookies.sameSite).toBe('Strict');
  });

  it('reads an explicit --config file relative to the working directory, and then ignores gatehouse.config.json', () => {
    writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: 1111 });
    mkdirSync(join(cwd, 'conf'));
    writeJSON(join(cwd, 'conf', 'prod.json'), { host: '0.0.0.0' });
    const config = load({ file: 'conf/prod.json' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8080);
  });

  it('refuses an explicit config file that does not exist', () => {
    const error = configErrorOf(() => load({ file: 'missing.json' }));
    expect(error.message).toContain(join(cwd, 'missing.json'));
    expect(error.message).toContain('ENOENT');
  });

  it('refuses a config file that is not a JSON object', () => {
    const path = join(cwd, DEFAULT_CONFIG_FILE);
    writeJSON(path, '{ "port": 8080, }');
    expect(configErrorOf(() => load()).message).toMatch(/not valid JSON/);
    writeJSON(path, '[1, 2]');
    expect(configErrorOf(() => load()).message).toMatch(/must hold a JSON object/);
    writeJSON(path, 'null');
    expect(configErrorOf(() => load()).message).toMatch(/must hold a JSON object/);
  });
});

/** Loads with `env` and returns every dotted path of interest with its parsed value (before derivation). */
function loadWithProbe(env: Record<string, string>): Map<string, unknown> {
  const config = load({ env });
  const values = new Map<string, unknown>([
    ['port', config.port],
    ['host', config.host],
    ['dataDir', config.dataDir === join(cwd, '.gatehouse') ? undefined : config.dataDir.slice(cwd.length + 1)],
    ['database.path', config.databasePath === join(config.dataDir, 'gatehouse.db') ? undefined : config.databasePath.slice(cwd.length + 1)],
    ['database.url', config.database.url],
    ['database.schema', config.database.schema],
    ['database.migrate', config.database.migrate],
    ['database.poolSize', config.database.poolSize],
    ['database.timeoutSeconds', config.database.timeoutSeconds],
    ['publicOrigin', config.publicOrigin],
    ['trustedOrigins', config.trustedOrigins.filter((o) => o !== config.publicOrigin)],
    ['secret', config.secret],
    ['secretFile', config.secret === GOOD_SECRET ? 'secret.txt' : undefined],
    ['allowInsecureHttp', config.allowInsecureHttp],
    ['trustProxy', config.trustProxy.length === 0 ? undefined : config.trustProxy],
    ['accessToken.ttlSeconds', config.accessToken.ttlSeconds],
    ['accessToken.clockToleranceSeconds', config.accessToken.clockToleranceSeconds],
    ['accessToken.issuer', config.accessToken.issuer],
    ['accessToken.audience', config.accessToken.audience],
    ['session.idleTimeoutSeconds', config.session.idleTimeoutSeconds],
    ['session.absoluteTimeoutSeconds', config.session.absoluteTimeoutSeconds],
    ['session.refreshGraceSeconds', config.session.refreshGraceSeconds],
    ['signing.algorithm', config.signing.algorithm],
    ['signing.publishAheadSeconds', config.signing.publishAheadSeconds],
    ['signing.syncIntervalSeconds', config.signing.syncIntervalSeconds],
    ['signing.keysFile', config.signing.keysFile === undefined ? undefined : config.signing.keysFile.slice(cwd.length + 1)],
    ['cookies.sameSite', config.cookies.sameSite.toLowerCase()],
    ['cookies.refreshPath', config.cookies.refreshPath],
    ['cookies.accessToken', config.cookies.accessToken],
    ['redis.url', config.redis.url],
    ['redis.keyPrefix', config.redis.keyPrefix],
    ['revocation.maxStalenessSeconds', config.revocation.maxStalenessSeconds],
    ['bodyLimitBytes', config.bodyLimitBytes],
    ['logLevel', config.logLevel],
    ['staticDir', config.staticDir === undefined ? undefined : config.staticDir.slice(cwd.length + 1)],
  ]);
  return values;
}

describe('invalid values name the field and where the value came from', () => {
  it('a database URL that is not PostgreSQL, without echoing it (it may hold a password)', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_DATABASE_URL: 'mysql://root:hunter2@db/app' } }));
    expect(error.message).toContain('database.url: must be a postgres:// or postgresql:// connection string (from GATEHOUSE_DATABASE_URL)');
    expect(error.message).not.toContain('hunter2');
    expect(load({ env: { GATEHOUSE_DATABASE_URL: 'postgresql://gh@db/app' } }).database.kind).toBe('postgres');
    expect(load().database).toMatchObject({ kind: 'sqlite', url: undefined });
  });

  it.each([
    ['another scheme', 'http://:hunter2-secret@cache.internal:6379'],
    ['not a URL', 'hunter2-secret@cache.internal'],
  ])('a redis.url that is %s, without repeating it (it may hold a password)', (_what, url) => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_REDIS_URL: url } }));
    expect(error.message).toContain('redis.url: must be a redis:// or rediss:// URL');
    expect(error.message).toContain('GATEHOUSE_REDIS_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('a non-numeric environment variable', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: 'abc' } }));
    expect(error.message).toContain('accessToken.ttlSeconds');
    expect(error.message).toContain('GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS');
  });

  it('a number out of range in the environment', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '5' } }));
    expect(error.message).toMatch(/accessToken\.ttlSeconds: .*\(from GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS\)/);
  });

  it('a boolean environment variable that is neither true nor false', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_ALLOW_INSECURE_HTTP: 'yes' } }));
    expect(error.message).toContain('allowInsecureHttp');
    expect(error.message).toContain('GATEHOUSE_ALLOW_INSECURE_HTTP');
  });

  it('a bad element of a list from the environment', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_TRUSTED_ORIGINS: 'https://a.example.com,https://b.example.com/app' } }));
    expect(error.message).toMatch(/trustedOrigins\.1: .*\(from GATEHOUSE_TRUSTED_ORIGINS\)/);
  });

  it('a plain-http trusted origin on a non-local host, unless insecure http is allowed', () => {
    const env = { GATEHOUSE_TRUSTED_ORIGINS: 'https://ok.example.com,http://other.example.com' };
    const error = configErrorOf(() => load({ env }));
    expect(error.message).toMatch(/trustedOrigins\.1: http:\/\/other\.example\.com is plain http.*\(from GATEHOUSE_TRUSTED_ORIGINS\)/);
    expect(load({ env: { GATEHOUSE_TRUSTED_ORIGINS: 'http://localhost:5173' } }).trustedOrigins).toContain('http://localhost:5173');
    expect(load({ env: { ...env, GATEHOUSE_ALLOW_INSECURE_HTTP: 'true' } }).trustedOrigins).toContain('http://other.example.com');
  });

  it('a string where the file needs a number', () => {
    const file = writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: 'x' });
    const error = configErrorOf(() => load());
    expect(error.message).toMatch(/\bport: /);
    expect(error.message).toContain(`(from ${file})`);
  });

  it('a value from the command line', () => {
    const error = configErrorOf(() => load({ overrides: { port: 70000 } }));
    expect(error.message).toMatch(/\bport: .*\(from command line\)/);
  });

  it('unknown fields in the file, at the top and nested', () => {
    const file = writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { prot: 9000, cookies: { samesite: 'strict' } });
    const error = configErrorOf(() => load());
    expect(error.message).toContain(`prot: unknown field (from ${file})`);
    expect(error.message).toContain(`cookies.samesite: unknown field (from ${file})`);
  });

  it('every bad field at once, not just the first', () => {
    writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: -1, logLevel: 'loud', bodyLimitBytes: 10 });
    const error = configErrorOf(() => load());
    for (const field of ['port', 'logLevel', 'bodyLimitBytes']) expect(error.message).toMatch(new RegExp(`\\b${field}: `));
  });

  it('problems from the environment and the file in one message', () => {
    const file = writeJSON(join(cwd, DEFAULT_CONFIG_FILE), { port: 'x' });
    const error = configErrorOf(() => load({ env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: 'abc', GATEHOUSE_LOG_LEVEL: 'loud' } }));
    expect(error.message).toContain('accessToken.ttlSeconds: GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS must be a number');
    expect(error.message).toMatch(/\bport: .*\(from .*\)/);
    expect(error.message).toContain(`(from ${file})`);
    expect(error.message).toMatch(/logLevel: .*\(from GATEHOUSE_LOG_LEVEL\)/);
    // A bad variable alone still fails, even when everything else is fine.
    rmSync(file);
    expect(configErrorOf(() => load({ env: { GATEHOUSE_PORT: '80a' } })).message).toBe(
      'Invalid configuration:\n  - port: GATEHOUSE_PORT must be a number',
    );
  });

  it('a publicOrigin with a path, query or credentials', () => {
    for (const origin of ['https://app.example.com/app', 'https://app.example.com/?x=1', 'https://user:pw@app.example.com']) {
      const error = configErrorOf(() => load({ env: { GATEHOUSE_PUBLIC_ORIGIN: origin } }));
      expect(error.message).toMatch(/publicOrigin: an origin is scheme, host and port only.*\(from GATEHOUSE_PUBLIC_ORIGIN\)/);
    }
    expect(configErrorOf(() => load({ overrides: { publicOrigin: 'app.example.com' } })).message).toMatch(/publicOrigin: .*not a URL/);
    expect(configErrorOf(() => load({ overrides: { publicOrigin: 'ftp://app.example.com' } })).message).toMatch(/publicOrigin: .*http: or https:/);
  });

  it('a plain-http origin that is not localhost, unless allowInsecureHttp', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_PUBLIC_ORIGIN: 'http://app.example.com' } }));
    expect(error.message).toMatch(/publicOrigin: .*plain http.*allowInsecureHttp.*\(from GATEHOUSE_PUBLIC_ORIGIN\)/);
    for (const local of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://app.localhost']) {
      const config = load({ overrides: { publicOrigin: local } });
      expect(config.cookies.secure, local).toBe(true);
      expect(config.cookies.accessName, local).toBe('__Host-gh_access');
    }
  });

  it('allowInsecureHttp drops Secure and the cookie prefixes', () => {
    const config = load({ overrides: { publicOrigin: 'http://app.internal', allowInsecureHttp: true } });
    expect(config.cookies).toMatchObject({ secure: false, accessName: 'gh_access', claimsName: 'gh_claims', refreshName: 'gh_refresh', anonymousName: 'gh_anon' });
    // An explicitly prefixed name cannot work without Secure.
    const file = writeJSON(join(cwd, DEFAULT_CONFIG_FILE), {
      publicOrigin: 'http://app.internal',
      allowInsecureHttp: true,
      cookies: { accessName: '__Host-mine' },
    });
    const error = configErrorOf(() => load());
    expect(error.message).toContain(`cookies.accessName: prefixed cookie names need a secure origin`);
    expect(error.message).toContain(`(from ${file})`);
  });

  it('cookie names: __Host- needs Path=/, names must differ, and must be tokens', () => {
    expect(load({ overrides: { 'cookies.refreshPath': '/' } }).cookies.refreshName).toBe('__Host-gh_refresh');
    expect(configErrorOf(() => load({ overrides: { 'cookies.refreshName': '__Host-r' } })).message).toMatch(/cookies\.refreshName: a __Host- cookie must have Path=\//);
    expect(configErrorOf(() => load({ overrides: { 'cookies.accessName': 'XSRF-TOKEN' } })).message).toMatch(/cookies: every cookie needs its own name/);
    expect(configErrorOf(() => load({ overrides: { 'cookies.claimsName': '__Host-gh_access' } })).message).toMatch(/cookies: every cookie needs its own name/);
    expect(configErrorOf(() => load({ overrides: { 'cookies.csrfName': 'bad name;' } })).message).toMatch(/cookies\.csrfName: must be a valid cookie name/);
  });

  it('an idle timeout longer than the absolute lifetime', () => {
    const env = { GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: '7200', GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' };
    const error = configErrorOf(() => load({ env }));
    expect(error.message).toMatch(/session\.absoluteTimeoutSeconds: must not be shorter than session\.idleTimeoutSeconds/);
    expect(error.message).toContain('GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS');
    expect(load({ env: { ...env, GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '7200' } }).session.absoluteTimeoutSeconds).toBe(7200);
  });

  it('an idle timeout not longer than the access-token lifetime', () => {
    const error = configErrorOf(() => load({ overrides: { 'session.idleTimeoutSeconds': 300 } }));
    expect(error.message).toMatch(/session\.idleTimeoutSeconds: must be longer than accessToken\.ttlSeconds/);
  });

  it('a __proto__ key in the file is refused and Object.prototype stays clean', () => {
    const file = join(cwd, DEFAULT_CONFIG_FILE);
    for (const text of [
      '{"__proto__": {"polluted": "yes"}}',
      '{"cookies": {"__proto__": {"polluted": "yes"}}}',
      '{"__proto__": {}}',
      '{"constructor": {"prototype": {"polluted": "yes"}}}',
    ]) {
      writeFileSync(file, text);
      const error = configErrorOf(() => load());
      expect(error.message, text).toMatch(/(__proto__|constructor)[\w.]*: not a configuration field/);
      expect(error.message).toContain(`(from ${file})`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    }
  });

  it('resolveConfig alone validates too (library use without a file)', () => {
    expect(configErrorOf(() => resolveConfig({ port: 'x' } as never)).message).toMatch(/\bport: /);
  });
});

describe('secret sources', () => {
  it('reads secretFile relative to the working directory and drops one trailing newline', () => {
    writeFileSync(join(cwd, 'gh-secret'), `${GOOD_SECRET}\n`);
    expect(load({ env: { GATEHOUSE_SECRET_FILE: 'gh-secret' } }).secret).toBe(GOOD_SECRET);
    writeFileSync(join(cwd, 'gh-secret'), `${GOOD_SECRET}\r\n`);
    expect(load({ overrides: { secretFile: join(cwd, 'gh-secret') } }).secret).toBe(GOOD_SECRET);
    writeFileSync(join(cwd, 'gh-secret'), GOOD_SECRET);
    expect(load({ overrides: { secretFile: 'gh-secret' } }).secret).toBe(GOOD_SECRET);
  });

  it('refuses a secretFile that cannot be read', () => {
    const error = configErrorOf(() => load({ env: { GATEHOUSE_SECRET_FILE: 'nope' } }));
    expect(error.message).toMatch(/secretFile: cannot read nope \(ENOENT\) \(from GATEHOUSE_SECRET_FILE\)/);
  });

  it('picks up <dataDir>/secret automatically', () => {
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'secret'), `${GOOD_SECRET}\n`);
    expect(load({ overrides: { dataDir: 'data' } }).secret).toBe(GOOD_SECRET);
    // Nothing in the default data dir: no secret.
    expect(load().secret).toBeUndefined();
    // An explicit secret wins over the file in the data dir, without a conflict.
    expect(load({ overrides: { dataDir: 'data' }, env: { GATEHOUSE_SECRET: `${GOOD_SECRET}-env` } }).secret).toBe(`${GOOD_SECRET}-env`);
  });

  it('refuses secret and secretFile together, without echoing the secret', () => {
    writeFileSync(join(cwd, 'gh-secret'), GOOD_SECRET);
    const error = configErrorOf(() => load({ env: { GATEHOUSE_SECRET: `${GOOD_SECRET}-env`, GATEHOUSE_SECRET_FILE: 'gh-secret' } }));
    expect(error.message).toMatch(/secretFile: set either secret or secretFile, not both/);
    expect(error.message).toContain('GATEHOUSE_SECRET');
    expect(error.message).not.toContain(GOOD_SECRET);
  });
});

describe('createGatehouse refuses a bad secret', () => {
  const bad: [string, string | undefined][] = [
    ['missing', undefined],
    ['empty', ''],
    ['shorter than 32 bytes', 'aB3$eF6&hI9(kL2@nO5^qR8*tU1!wX4'],
    ['a known default, repeated to length', 'changeme'.repeat(5)],
    ['a well-known JWT tutorial secret', 'your-256-bit-secret'],
    ['the docs placeholder', DOCS_PLACEHOLDER_SECRET],
    ['long but not random', 'ab'.repeat(20)],
  ];

  it.each(bad)('%s', async (_label, secret) => {
    const config = load({ overrides: { secret, dataDir: 'data' } });
    const error = await asyncConfigErrorOf(createGatehouse({ config, logger: createLogger('silent') }));
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- secret: /);
    if (secret !== undefined && secret !== '') expect(error.message).not.toContain(secret);
  });

  it('the same rule applies to a secret read from a file', async () => {
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'secret'), `${DOCS_PLACEHOLDER_SECRET}\n`);
    const config = load({ overrides: { dataDir: 'data' } });
    const error = await asyncConfigErrorOf(createGatehouse({ config, logger: createLogger('silent') }));
    expect(error.message).toContain('secret: ');
    expect(error.message).not.toContain(DOCS_PLACEHOLDER_SECRET);
  });

  it('accepts a strong secret', async () => {
    expect(secretProblem(GOOD_SECRET)).toBeNull();
    const config = load({ overrides: { secret: GOOD_SECRET, dataDir: 'data' } });
    const gatehouse = await createGatehouse({ config, logger: createLogger('silent') });
    await gatehouse.close();
  });
});

describe('docs/configuration.md matches the code', () => {
  const DOC = readFileSync(fileURLToPath(new URL('../../../../docs/configuration.md', import.meta.url)), 'utf8');

  /** Dotted paths of every leaf field of the schema. */
  function leafFields(shape: Record<string, z.ZodType>, prefix = ''): string[] {
    return Object.entries(shape).flatMap(([key, schema]) => {
      let inner: z.ZodType = schema;
      // Unwrap .default() and .optional() to see whether the field is a nested object.
      while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
      return inner instanceof z.ZodObject ? leafFields(inner.shape as Record<string, z.ZodType>, `${prefix}${key}.`) : [`${prefix}${key}`];
    });
  }

  /** The fields of each list-of-objects field (`oidc.providers[].issuer`), with each one's default (undefined: none). */
  function itemFields(shape: Record<string, z.ZodType>, prefix = ''): [string, unknown][] {
    return Object.entries(shape).flatMap(([key, schema]): [string, unknown][] => {
      let inner: z.ZodType = schema;
      while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
      if (inner instanceof z.ZodObject) return itemFields(inner.shape as Record<string, z.ZodType>, `${prefix}${key}.`);
      if (!(inner instanceof z.ZodArray) || !(inner.element instanceof z.ZodObject)) return [];
      return Object.entries(inner.element.shape as Record<string, z.ZodType>).map(([name, field]): [string, unknown] => [
        `${prefix}${key}[].${name}`,
        field instanceof z.ZodDefault ? field.parse(undefined) : undefined,
      ]);
    });
  }

  /** The cells of the documentation table row for `field`, or undefined. */
  function row(field: string): string[] | undefined {
    const line = DOC.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));
    return line?.split(' | ').map((cell) => cell.replace(/^\| | \|$/g, ''));
  }

  const fields = leafFields(configSchema.shape as Record<string, z.ZodType>);
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  const envByField = new Map(ENVIRONMENT_VARIABLES.map(([name, path]) => [path, name]));

  it('the schema has the fields this test expects to walk', () => {
    expect(fields).toContain('accessToken.ttlSeconds');
    expect(fields).toContain('database.path');
    expect(fields).toHaveLength(68);
  });

  // The oidc lists are documented entry field by entry field (gateway routes are documented in gateway.md).
  it.each(itemFields(configSchema.shape as Record<string, z.ZodType>).filter(([field]) => field.startsWith('oidc.')))('%s: each list entry\'s field is documented with its default', (field, value) => {
    const cells = row(field);
    expect(cells, `no table row for ${field}`).toBeDefined();
    const [, , defaultCell, envCell] = cells ?? [];
    if (value !== undefined) expect(defaultCell).toContain(`\`${JSON.stringify(value)}\``);
    expect(envCell).toBe('—');
  });

  it.each(fields)('%s: documented with its default and environment variable', (field) => {
    const cells = row(field);
    expect(cells, `no table row for ${field}`).toBeDefined();
    const [, , defaultCell, envCell] = cells ?? [];
    const value = field.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], defaults);
    if (value !== undefined) expect(defaultCell).toContain(`\`${JSON.stringify(value)}\``);
    const env = envByField.get(field);
    if (env === undefined) expect(envCell).toBe('—');
    else expect(envCell).toMatch(new RegExp(`^\`${env}\`( |$)`));
  });

  it('lists every environment variable, and no others', () => {
    const documented = [...new Set(DOC.match(/GATEHOUSE_[A-Z_]+/g))].sort();
    expect(documented).toEqual(ENVIRONMENT_VARIABLES.map(([name]) => name).sort());
    for (const [name, field] of ENVIRONMENT_VARIABLES) expect(DOC).toContain(`| \`${name}\` | \`${field}\` |`);
  });

  it('names the docs placeholder secret, which is refused', () => {
    expect(DOC).toContain(DOCS_PLACEHOLDER_SECRET);
    expect(secretProblem(DOCS_PLACEHOLDER_SECRET)).not.toBeNull();
  });

  it('the production example is a valid configuration', () => {
    const example = /## Example: production[\s\S]*?```json\n([\s\S]*?)```/.exec(DOC)?.[1];
    expect(example).toBeDefined();
    const parsed = JSON.parse(example ?? '') as ConfigInput;
    expect(parsed.secretFile).toBe('/etc/gatehouse/secret');
    writeFileSync(join(cwd, 'secret'), `${GOOD_SECRET}\n`);
    const config = resolveConfig({ ...parsed, secretFile: join(cwd, 'secret') }, { cwd });
    expect(config.secret).toBe(GOOD_SECRET);
    expect(config.cookies).toMatchObject({ secure: true, accessName: '__Host-gh_access', sameSite: 'Strict' });
  });
});
