// One application under test per process, so that the load generator gets the other core.
// Usage: node bench/servers.mjs <app>
// Prints one JSON line on stdout: {"port":N,"routes":{name:{path,headers}}} or {"unavailable":"why"}.
// Every app answers GET routes with {"user":{...}} JSON; guarded routes answer 401 without credentials.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const app = process.argv[2];
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'a long benchmark passphrase';
const USER = { id: 'u1', username: 'bench', roles: ['user'] };
// More than twice the verified-token cache (10,000 entries): cycling through them in order, each comes back after it was evicted.
const MISS_TOKENS = 25_000;
const dataDir = mkdtempSync(join(tmpdir(), `gatehouse-bench-${app}-`));
const cleanups = [() => rmSync(dataDir, { recursive: true, force: true })];
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch {}
    }
    process.exit(0);
  });
}

function announce(server, routes) {
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port, routes })}\n`));
}

function unavailable(why) {
  process.stdout.write(`${JSON.stringify({ unavailable: why })}\n`);
}

/**
 * Gatehouse with one signed-in user. With `mint`, also that many more access tokens for the
 * same session, each different (own jti), written one per line to a file for wrk: a cycle
 * longer than the verified-token cache makes every request a miss.
 */
async function gatehouseWith(algorithm, { mint = 0 } = {}) {
  const { createGatehouse, resolveConfig } = await import('@gatehouse/server');
  const input = { secret: SECRET, dataDir, accessToken: { ttlSeconds: 3600 }, logLevel: 'silent' };
  if (algorithm !== 'HS256') input.signing = { algorithm };
  let config;
  try {
    config = resolveConfig(input);
  } catch (error) {
    return { unavailable: `this build of Gatehouse does not accept signing.algorithm "${algorithm}" (${error.code ?? error.message})` };
  }
  const gatehouse = await createGatehouse({ config });
  cleanups.push(() => void gatehouse.close());
  await gatehouse.auth.createUser({ username: USER.username, password: PASSWORD, roles: USER.roles });
  const issued = await gatehouse.auth.login({ username: USER.username, password: PASSWORD }, { ip: '127.0.0.1', userAgent: 'bench' });
  const alg = JSON.parse(Buffer.from(issued.accessToken.split('.')[0], 'base64url').toString()).alg;
  if (alg !== algorithm) return { unavailable: `signing.algorithm "${algorithm}" was accepted but tokens are signed with ${alg}` };
  const tokensFile = mint > 0 ? await mintTokens(gatehouse, config, issued, mint) : undefined;
  return { gatehouse, cookieName: config.cookies.accessName, cookie: `${config.cookies.accessName}=${issued.accessToken}`, tokensFile };
}

/** Signs `count` tokens the server accepts (same keys, same session) with Gatehouse's own token service. */
async function mintTokens(gatehouse, config, issued, count) {
  // Internal modules, by path: the bench needs the token service, which the package does not export.
  const { AccessTokenService } = await import('../packages/server/dist/core/access-token.js');
  const { deriveKeyRing } = await import('../packages/server/dist/core/keys.js');
  const { systemClock } = await import('@gatehouse/server');
  const service = new AccessTokenService(gatehouse.signingKeys ?? deriveKeyRing(SECRET).accessToken, config.accessToken, systemClock, { maxEntries: 0 });
  const subject = { userId: issued.user.id, username: issued.user.username, roles: issued.user.roles, sessionId: issued.session.id };
  const tokens = [];
  while (tokens.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, count - tokens.length) }, () => service.issue(subject)));
    for (const { token } of batch) tokens.push(token);
  }
  const file = join(dataDir, 'tokens.txt');
  writeFileSync(file, `${tokens.join('\n')}\n`);
  return file;
}

/**
 * The floor: what a guard that does nothing but find the cookie's token in a Map and check its
 * expiry costs, answered synchronously. `after` is what the process loads first: nothing,
 * Gatehouse's modules, or a running Gatehouse it never asks (to see what merely loading costs).
 */
async function floor(after) {
  let cookieName = '__Host-gh_access';
  let token = `eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${randomBytes(250).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
  if (after === 'imported') {
    await import('@gatehouse/server');
    await import('@gatehouse/server/node');
  } else if (after === 'running') {
    const g = await gatehouseWith('HS256');
    await import('@gatehouse/server/node');
    cookieName = g.cookieName;
    token = g.cookie.slice(cookieName.length + 1);
  }
  const verified = new Map([[token, { exp: Math.floor(Date.now() / 1000) + 3600, user: USER }]]);
  const prefix = `${cookieName}=`;
  const server = createServer((req, res) => {
    const cookie = req.headers.cookie;
    const at = cookie === undefined ? -1 : cookie.indexOf(prefix);
    const end = at === -1 ? -1 : cookie.indexOf(';', at);
    const hit = at === -1 ? undefined : verified.get(cookie.slice(at + prefix.length, end === -1 ? undefined : end));
    if (hit === undefined || hit.exp <= Date.now() / 1000) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"error":"unauthenticated"}');
    }
    sendUser(res, hit.user);
  });
  announce(server, { guarded: { path: '/me', headers: { cookie: `${prefix}${token}` } } });
}

/** Every node:http app answers through this, so the baseline and the guarded routes do the same work after the guard. */
function sendUser(res, user) {
  const body = JSON.stringify({ user });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const APPS = {
  // The baseline: node:http answering the same JSON, built the same way, with no auth at all.
  async bare() {
    const server = createServer((req, res) => sendUser(res, USER));
    announce(server, { open: { path: '/me', headers: {} } });
  },

  floor,

  // `variant` "miss": every request carries a token the server has not seen (or has forgotten).
  async 'gatehouse-node'(algorithm, variant) {
    const g = await gatehouseWith(algorithm, { mint: variant === 'miss' ? MISS_TOKENS : 0 });
    if (g.unavailable) return unavailable(g.unavailable);
    const { nodeGuard } = await import('@gatehouse/server/node');
    const guard = nodeGuard(g.gatehouse);
    const server = createServer(async (req, res) => {
      const auth = await guard(req, res);
      if (auth === undefined) return;
      sendUser(res, auth.user);
    });
    announce(server, { guarded: { path: '/me', headers: { cookie: g.cookie }, ...(g.tokensFile ? { tokensFile: g.tokensFile, cookieName: g.cookieName } : {}) } });
  },

  async 'gatehouse-express'(algorithm) {
    const g = await gatehouseWith(algorithm);
    if (g.unavailable) return unavailable(g.unavailable);
    const { default: express } = await import('express');
    const { expressAuth, expressGuard } = await import('@gatehouse/server/express');
    const app = express();
    app.disable('x-powered-by');
    app.use(expressAuth(g.gatehouse));
    app.get('/open', (req, res) => void res.json({ user: USER }));
    app.get('/me', expressGuard(g.gatehouse), (req, res) => void res.json({ user: req.auth.user }));
    announce(createServer(app), { open: { path: '/open', headers: {} }, guarded: { path: '/me', headers: { cookie: g.cookie } } });
  },

  async 'gatehouse-fastify'(algorithm) {
    const g = await gatehouseWith(algorithm);
    if (g.unavailable) return unavailable(g.unavailable);
    const { default: Fastify } = await import('fastify');
    const { gatehouseFastify, fastifyGuard } = await import('@gatehouse/server/fastify');
    const app = Fastify({ logger: false });
    await app.register(gatehouseFastify, { gatehouse: g.gatehouse });
    app.get('/open', async () => ({ user: USER }));
    app.get('/me', { onRequest: fastifyGuard(g.gatehouse) }, async (request) => ({ user: request.auth.user }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.stdout.write(`${JSON.stringify({ port: app.server.address().port, routes: { open: { path: '/open', headers: {} }, guarded: { path: '/me', headers: { cookie: g.cookie } } } })}\n`);
  },

  async 'gatehouse-hono'(algorithm) {
    const g = await gatehouseWith(algorithm);
    if (g.unavailable) return unavailable(g.unavailable);
    const { Hono } = await import('hono');
    const { createAdaptorServer } = await import('@hono/node-server');
    const { honoAuth, honoGuard } = await import('@gatehouse/server/hono');
    const app = new Hono();
    app.use(honoAuth(g.gatehouse));
    app.get('/open', (c) => c.json({ user: USER }));
    app.get('/me', honoGuard(g.gatehouse), (c) => c.json({ user: c.get('auth').user }));
    announce(createAdaptorServer({ fetch: app.fetch }), { open: { path: '/open', headers: {} }, guarded: { path: '/me', headers: { cookie: g.cookie } } });
  },

  // Peers, set up the way their READMEs show.
  async 'express-jwt'() {
    const { default: express } = await import('express');
    const { expressjwt } = await import('express-jwt');
    const { default: jwt } = await import('jsonwebtoken');
    const app = express();
    app.disable('x-powered-by');
    app.get('/me', expressjwt({ secret: SECRET, algorithms: ['HS256'] }), (req, res) => void res.json({ user: { id: req.auth.sub, username: req.auth.username, roles: req.auth.roles } }));
    const token = jwt.sign({ sub: USER.id, username: USER.username, roles: USER.roles }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
    announce(createServer(app), { guarded: { path: '/me', headers: { authorization: `Bearer ${token}` } } });
  },

  async 'fastify-jwt'() {
    const { default: Fastify } = await import('fastify');
    const { default: fastifyJwt } = await import('@fastify/jwt');
    const app = Fastify({ logger: false });
    await app.register(fastifyJwt, { secret: SECRET });
    app.decorate('authenticate', async (request, reply) => {
      try {
        await request.jwtVerify();
      } catch (err) {
        reply.send(err);
      }
    });
    app.get('/me', { onRequest: [app.authenticate] }, async (request) => ({ user: { id: request.user.sub, username: request.user.username, roles: request.user.roles } }));
    await app.ready();
    const token = app.jwt.sign({ sub: USER.id, username: USER.username, roles: USER.roles }, { expiresIn: '1h' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.stdout.write(`${JSON.stringify({ port: app.server.address().port, routes: { guarded: { path: '/me', headers: { authorization: `Bearer ${token}` } } } })}\n`);
  },

  async 'hono-jwt'() {
    const { Hono } = await import('hono');
    const { jwt, sign } = await import('hono/jwt');
    const { createAdaptorServer } = await import('@hono/node-server');
    const app = new Hono();
    app.use('/me', jwt({ secret: SECRET, alg: 'HS256' }));
    app.get('/me', (c) => {
      const payload = c.get('jwtPayload');
      return c.json({ user: { id: payload.sub, username: payload.username, roles: payload.roles } });
    });
    const token = await sign({ sub: USER.id, username: USER.username, roles: USER.roles, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET, 'HS256');
    announce(createAdaptorServer({ fetch: app.fetch }), { guarded: { path: '/me', headers: { authorization: `Bearer ${token}` } } });
  },

  async 'better-auth'(cookieCache) {
    const { betterAuth } = await import('better-auth');
    const { getMigrations } = await import('better-auth/db/migration');
    const { fromNodeHeaders } = await import('better-auth/node');
    const { default: Database } = await import('better-sqlite3');
    const auth = betterAuth({
      database: new Database(join(dataDir, 'better-auth.db')),
      secret: SECRET,
      baseURL: 'http://127.0.0.1',
      emailAndPassword: { enabled: true },
      logger: { disabled: true },
      session: cookieCache ? { cookieCache: { enabled: true, maxAge: 300 } } : {},
    });
    const { runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    const signUp = await auth.api.signUpEmail({ body: { email: 'bench@example.com', password: PASSWORD, name: USER.username }, asResponse: true });
    const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const server = createServer(async (req, res) => {
      const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
      if (session === null) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"error":"unauthenticated"}');
      }
      sendUser(res, { id: session.user.id, username: session.user.name, roles: USER.roles });
    });
    announce(server, { guarded: { path: '/me', headers: { cookie } } });
  },
};

const [name, variant, extra] = app.split(':');
if (!(name in APPS)) {
  process.stderr.write(`unknown app ${app}\n`);
  process.exit(2);
}
if (name === 'better-auth') await APPS[name](variant === 'cookie-cache');
else if (name === 'floor') await APPS[name](variant ?? 'bare');
else await APPS[name](variant ?? 'HS256', extra);
