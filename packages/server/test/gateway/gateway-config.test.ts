import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { GatehouseError } from '../../src/core/errors.js';
import { startGatewayServer, TestUpstream } from './gateway-support.js';

const SECRET = 'Xq3vN8rT1wZ5yB7mK2pD9sF4hJ6lC0gA-gateway-test';
const BASE: ConfigInput = { secret: SECRET, signing: { algorithm: 'EdDSA' } };
const ROUTE = { prefix: '/api', upstream: 'http://127.0.0.1:9000', audience: 'api' };

/** The CONFIG_INVALID message for `input`; fails when it resolves. */
function problemsOf(input: ConfigInput): string {
  try {
    resolveConfig({ ...BASE, ...input });
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('CONFIG_INVALID');
    return (error as GatehouseError).message;
  }
  throw new Error('expected CONFIG_INVALID');
}

const routes = (...list: readonly Record<string, unknown>[]): ConfigInput => ({ gateway: { routes: list as never } });

describe('gateway.routes: valid routes', () => {
  it('resolve with their defaults, the upstream split into origin and path', () => {
    const config = resolveConfig({ ...BASE, ...routes({ prefix: '/api/orders', upstream: 'https://Orders.Internal:8443/v1/', audience: 'orders' }) });
    expect(config.gateway.routes).toEqual([
      {
        prefix: '/api/orders',
        upstream: { origin: 'https://orders.internal:8443', basePath: '/v1' },
        audience: 'orders',
        auth: 'required',
        roles: [],
        stripPrefix: false,
        forward: 'identity',
        websocket: false,
        transparentRefresh: false,
        cookies: [],
        timeouts: { connectSeconds: 5, responseSeconds: 30, idleSeconds: 300 },
      },
    ]);
    expect(config.gateway.identity.ttlSeconds).toBe(60);
    expect(config.gateway.decisionPath).toBeUndefined();
    expect(Object.isFrozen(config.gateway.routes[0])).toBe(true);
  });

  it('default to none', () => {
    expect(resolveConfig({ secret: SECRET }).gateway).toEqual({ routes: [], identity: { ttlSeconds: 60 }, decisionPath: undefined });
  });
});

describe('gateway.routes: every problem names its field', () => {
  it.each([
    ['a trailing slash', '/api/'],
    ['a dot-dot segment', '/api/../admin'],
    ['an empty segment', '/api//x'],
    ['a percent sign', '/api%2fx'],
    ['no leading slash', 'api'],
    ['a segment ending in a dot', '/api./x'],
  ])('prefix with %s', (_what, prefix) => {
    expect(problemsOf(routes({ ...ROUTE, prefix }))).toMatch(/gateway\.routes\.0\.prefix: must be "\/" or a path/);
  });

  it.each(['/auth', '/auth/x', '/AUTH/x', '/.well-known'])('prefix %s, which Gatehouse answers itself', (prefix) => {
    expect(problemsOf(routes({ ...ROUTE, prefix }))).toContain('gateway.routes.0.prefix: must not be /auth, /.well-known');
  });

  it.each([
    ['not a URL', 'orders.internal', 'must be an absolute http: or https: URL'],
    ['another scheme', 'ftp://orders.internal', 'must use http: or https:'],
    ['credentials', 'http://user:pw@orders.internal', 'must have no credentials, query or fragment'],
    ['a query', 'http://orders.internal/?a=1', 'must have no credentials, query or fragment'],
    ['a dot-dot path', 'http://orders.internal/v1/%2e%2e/x', 'its path may hold letters'],
  ])('upstream with %s', (_what, upstream, message) => {
    expect(problemsOf(routes({ ...ROUTE, upstream }))).toContain(`gateway.routes.0.upstream: ${message}`);
  });

  it('a missing audience', () => {
    expect(problemsOf(routes({ prefix: '/api', upstream: ROUTE.upstream }))).toContain('gateway.routes.0.audience:');
  });

  it('an unknown field (a typo never falls back to a default)', () => {
    expect(problemsOf(routes({ ...ROUTE, stripPrefx: true }))).toContain('gateway.routes.0.stripPrefx: unknown field');
  });

  it('two routes with one prefix, in any case', () => {
    expect(problemsOf(routes(ROUTE, { ...ROUTE, prefix: '/API', audience: 'other' }))).toContain('gateway.routes.1.prefix: /API is already the prefix of gateway.routes.0');
  });

  it('an audience equal to the access tokens’ own', () => {
    expect(problemsOf({ ...routes({ ...ROUTE, audience: 'https://app.example.com' }), publicOrigin: 'https://app.example.com' })).toContain(
      'gateway.routes.0.audience: must differ from accessToken.audience',
    );
  });

  it('a Gatehouse cookie among the cookies passed to the upstream', () => {
    expect(problemsOf(routes({ ...ROUTE, cookies: ['theme', 'XSRF-TOKEN'] }))).toContain('gateway.routes.0.cookies: XSRF-TOKEN is a Gatehouse cookie');
    expect(problemsOf(routes({ ...ROUTE, cookies: ['__Host-gh_access'] }))).toContain('gateway.routes.0.cookies: __Host-gh_access is a Gatehouse cookie');
    expect(problemsOf(routes({ ...ROUTE, cookies: ['__Secure-gh_oidc_corp'] }))).toContain('gateway.routes.0.cookies: __Secure-gh_oidc_corp is a Gatehouse cookie');
  });

  it('roles on an optional route', () => {
    expect(problemsOf(routes({ ...ROUTE, auth: 'optional', roles: ['admin'] }))).toContain('gateway.routes.0.roles: need auth "required"');
  });

  it('transparentRefresh without cookies.refreshPath "/" (the refresh cookie would never reach the route)', () => {
    expect(problemsOf(routes({ ...ROUTE, transparentRefresh: true }))).toContain('gateway.routes.0.transparentRefresh: needs cookies.refreshPath "/"');
  });

  it('timeouts out of range', () => {
    expect(problemsOf(routes({ ...ROUTE, timeouts: { responseSeconds: 0 } }))).toContain('gateway.routes.0.timeouts.responseSeconds:');
  });

  it('an identity lifetime over 60 seconds', () => {
    expect(problemsOf({ gateway: { identity: { ttlSeconds: 61 } } })).toContain('gateway.identity.ttlSeconds:');
  });

  it('a decision path under a route, or "/"', () => {
    expect(problemsOf({ gateway: { routes: [ROUTE], decisionPath: '/api/decide' } })).toContain('gateway.decisionPath: must not lie under a route prefix');
    expect(problemsOf({ gateway: { decisionPath: '/' } })).toContain('gateway.decisionPath: must not be "/"');
  });

  it('HS256 with routes that forward an identity: upstreams could not verify it, so start fails', () => {
    const message = problemsOf({ ...routes(ROUTE), signing: { algorithm: 'HS256' } });
    expect(message).toContain('gateway.routes: forwarding an identity to upstreams needs keys they can verify at /.well-known/jwks.json; set signing.algorithm to EdDSA, ES256 or RS256');
  });

  it('HS256 with only a decision endpoint, which hands out identity tokens too', () => {
    expect(problemsOf({ gateway: { decisionPath: '/gatehouse/decision' }, signing: { algorithm: 'HS256' } })).toContain('gateway.routes: forwarding an identity');
  });

  it('HS256 is fine for routes that forward the provider’s token instead', () => {
    expect(() => resolveConfig({ secret: SECRET, ...routes({ ...ROUTE, forward: 'provider-token' }) })).not.toThrow();
  });
});

describe('createGateway', () => {
  it('refuses a provider-token route when no provider token source was given', async () => {
    const failed = await startGatewayServer(routes({ ...ROUTE, forward: 'provider-token' })).then(
      async (server) => {
        await server.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(GatehouseError);
    expect((failed as GatehouseError).message).toContain('gateway.routes.0.forward: "provider-token" needs an OpenID Connect provider');
  });
});

describe('forward: "provider-token" (the seam for OpenID Connect)', () => {
  it('sends what the provider token source gives for the session, and refuses when it has none', async () => {
    const upstream = await TestUpstream.start();
    const server = await startGatewayServer(
      routes({ prefix: '/provider', upstream: upstream.url, audience: 'provider-api', forward: 'provider-token' }, { prefix: '/nobody', upstream: upstream.url, audience: 'x', forward: 'provider-token' }),
      {
        providerTokens: {
          authorization: async (auth, route) => {
            if (route.prefix === '/nobody') throw new GatehouseError('UNAUTHENTICATED');
            return `Bearer provider-token-of-${auth.sessionId}`;
          },
        },
      },
    );
    try {
      const alice = await server.signedIn();
      const me = await alice.get('/auth/me');
      const res = await alice.get('/provider/x');
      expect(res.status).toBe(200);
      expect(res.body.headers.authorization).toBe(`Bearer provider-token-of-${me.body.session.id}`);
      const refused = await alice.get('/nobody/x');
      expect(refused.status).toBe(401);
      expect(upstream.received).toHaveLength(1);
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});

describe('transparentRefresh on a route', () => {
  it('refreshes an expired access token inline, sets the new cookies and forwards the request', async () => {
    const upstream = await TestUpstream.start();
    const server = await startGatewayServer({
      cookies: { refreshPath: '/' },
      ...routes({ prefix: '/events', upstream: upstream.url, audience: 'events', transparentRefresh: true }, { prefix: '/plain', upstream: upstream.url, audience: 'plain' }),
    });
    try {
      const alice = await server.signedIn();
      const before = alice.cookie('__Host-gh_access');
      server.clock.advance(310_000); // past the 300 s lifetime and 5 s of leeway
      expect((await alice.get('/plain/x')).status).toBe(401);
      const res = await alice.get('/events/stream');
      expect(res.status).toBe(200);
      expect(res.setCookies.map((c) => c.name)).toContain('__Host-gh_access');
      expect(alice.cookie('__Host-gh_access')).not.toBe(before);
      expect(upstream.received).toHaveLength(1);
      expect(upstream.last.headers.cookie).toBeUndefined();
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});

describe('undici is loaded only when the gateway is', () => {
  const packageDir = fileURLToPath(new URL('../../', import.meta.url));
  let hooksDir: string;
  beforeAll(async () => {
    hooksDir = await mkdtemp(join(tmpdir(), 'gatehouse-hooks-'));
    await writeFile(
      join(hooksDir, 'hooks.mjs'),
      'export async function resolve(specifier, context, next) { const r = await next(specifier, context); process.stdout.write(r.url + "\\n"); return r; }\n',
    );
    await writeFile(join(hooksDir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(hooksDir, 'hooks.mjs')).href)});\n`);
  });
  afterAll(async () => {
    await rm(hooksDir, { recursive: true, force: true });
  });

  async function loads(specifier: string): Promise<boolean> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', pathToFileURL(join(hooksDir, 'register.mjs')).href, '--input-type=module', '-e', `await import(${JSON.stringify(specifier)});`],
      { cwd: packageDir },
    );
    return stdout.includes('/node_modules/undici/');
  }

  it('@gatehouse/server/gateway loads it (the check can fail)', async () => {
    expect(await loads('@gatehouse/server/gateway')).toBe(true);
  });

  it.each(['@gatehouse/server', '@gatehouse/server/node', './dist/cli/main.js'])('%s does not', async (specifier) => {
    expect(await loads(specifier)).toBe(false);
  });
});
