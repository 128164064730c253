// The processes of the gateway benchmark, one per process (bench/gateway.mjs starts them).
// Usage: node bench/gateway-servers.mjs upstream
//        node bench/gateway-servers.mjs undici-proxy <upstreamPort>
//        node bench/gateway-servers.mjs gatehouse <upstreamPort>
// Prints one JSON line: {"port":N,"path":"/…","headers":{…}}.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [kind, upstreamPort] = process.argv.slice(2);
// A clean exit on SIGTERM, so that --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
const BODY = JSON.stringify({ orders: [{ id: 7, item: 'tea', quantity: 2 }] });

function announce(server, path, headers = {}) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port, path, headers })}\n`));
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): what even the barest proxy must not pass on. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

const kinds = {
  /** The API behind every proxy: a small JSON answer. */
  upstream() {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
    announce(server, '/api/orders');
  },

  /** The bar: a pass-through proxy on undici with nothing else (no auth, no header rules beyond hop-by-hop). */
  async 'undici-proxy'() {
    const { Pool } = await import('undici');
    const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
    const server = createServer((req, res) => {
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
      pool
        .stream({ path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req, opaque: res }, ({ statusCode, headers: answer, opaque }) => {
          const out = {};
          for (const [name, value] of Object.entries(answer)) if (!HOP.has(name)) out[name] = value;
          opaque.writeHead(statusCode, out);
          return opaque;
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        });
    });
    announce(server, '/api/orders');
  },

  /** Gatehouse's gateway: a guarded route (EdDSA, a signed-in cookie), the identity token minted (cached) per request. */
  async gatehouse() {
    const { createGatehouse, resolveConfig } = await import('@gatehouse/server');
    const { createNodeServer } = await import('@gatehouse/server/node');
    const { createGateway } = await import('@gatehouse/server/gateway');
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-gateway-'));
    process.prependListener('SIGTERM', () => rmSync(dataDir, { recursive: true, force: true }));
    const config = resolveConfig({
      secret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
      dataDir,
      logLevel: 'silent',
      accessToken: { ttlSeconds: 3600 },
      signing: { algorithm: 'EdDSA' },
      gateway: { routes: [{ prefix: '/api', upstream: `http://127.0.0.1:${upstreamPort}`, audience: 'orders-api' }] },
    });
    const gatehouse = await createGatehouse({ config });
    await gatehouse.auth.createUser({ username: 'bench', password: 'a long benchmark passphrase', roles: ['user'] });
    const issued = await gatehouse.auth.login({ username: 'bench', password: 'a long benchmark passphrase' }, { ip: '127.0.0.1', userAgent: 'bench' });
    const gateway = await createGateway(gatehouse);
    const server = createNodeServer(gatehouse, { fallback: gateway.handler((_req, res) => res.writeHead(404).end()) });
    announce(server, '/api/orders', { cookie: `${config.cookies.accessName}=${issued.accessToken}` });
  },
};

const run = kinds[kind];
if (run === undefined) {
  console.error(`unknown kind ${kind}`);
  process.exit(2);
}
await run();
