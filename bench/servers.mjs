// One application under test per process, so that the load generator gets the other core.
// Usage: node bench/servers.mjs <app>
// Prints one JSON line on stdout: {"port":N,"routes":{name:{path,headers}}} or {"unavailable":"why"}.
// Every app answers GET routes with {"user":{...}} JSON; guarded routes answer 401 without credentials.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const app = process.argv[2];
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'a long benchmark passphrase';
const USER = { id: 'u1', username: 'bench', roles: ['user'] };
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

/** Gatehouse with one signed-in user; `algorithm` other than HS256 needs the `signing` config (issue 4). */
async function gatehouseWith(algorithm) {
  const { createGatehouse, resolveConfig } = await import('@gatehouse/server');
  const { pino } = await import('pino');
  const input = { secret: SECRET, dataDir, accessToken: { ttlSeconds: 3600 }, logLevel: 'silent' };
  if (algorithm !== 'HS256') input.signing = { algorithm };
  let config;
  try {
    config = resolveConfig(input);
  } catch (error) {
    return { unavailable: `this build of Gatehouse does not accept signing.algorithm "${algorithm}" (${error.code ?? error.message})` };
  }
  const gatehouse = await createGatehouse({ config, logger: pino({ level: 'silent' }) });
  cleanups.push(() => void gatehouse.close());
  await gatehouse.auth.createUser({ username: USER.username, password: PASSWORD, roles: USER.roles });
  const issued = await gatehouse.auth.login({ username: USER.username, password: PASSWORD }, { ip: '127.0.0.1', userAgent: 'bench' });
  const alg = JSON.parse(Buffer.from(issued.accessToken.split('.')[0], 'base64url').toString()).alg;
  if (alg !== algorithm) return { unavailable: `signing.algorithm "${algorithm}" was accepted but tokens are signed with ${alg}` };
  return { gatehouse, cookie: `${config.cookies.accessName}=${issued.accessToken}` };
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

  async 'gatehouse-node'(algorithm) {
    const g = await gatehouseWith(algorithm);
    if (g.unavailable) return unavailable(g.unavailable);
    const { nodeGuard } = await import('@gatehouse/server/node');
    const guard = nodeGuard(g.gatehouse);
    const server = createServer(async (req, res) => {
      const auth = await guard(req, res);
      if (auth === undefined) return;
      sendUser(res, auth.user);
    });
    announce(server, { guarded: { path: '/me', headers: { cookie: g.cookie } } });
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

const [name, variant] = app.split(':');
if (!(name in APPS)) {
  process.stderr.write(`unknown app ${app}\n`);
  process.exit(2);
}
await APPS[name](name === 'better-auth' ? variant === 'cookie-cache' : variant ?? 'HS256');
