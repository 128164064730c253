import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { ManualClock } from '../../src/core/clock.js';
import { GatehouseError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import { createNodeServer, sendError } from '../../src/http/node.js';
import { TestBrowser } from '../support/test-browser.js';
import { ALICE, APP_ORIGIN, BOB, TEST_SECRET } from '../support/test-server.js';

export { ALICE, APP_ORIGIN, BOB } from '../support/test-server.js';

/** One request as an upstream received it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

/** An upstream's own behaviour for a path; anything else is echoed. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest[]) => void | Promise<void>;

/**
 * A real HTTP upstream on loopback. By default it answers every request with
 * JSON describing what it received (method, target, headers, body), and
 * records each one; `handlers` override single paths (matched on the
 * pathname), and run before the body is read.
 */
export class TestUpstream {
  readonly received: ReceivedRequest[] = [];
  /** Connections accepted so far: connection reuse shows as fewer connections than requests. */
  connections = 0;
  readonly handlers = new Map<string, UpstreamHandler>();

  private constructor(
    readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestUpstream> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const upstream = new TestUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', () => upstream.connections++);
    server.on('request', (req, res) => void upstream.#answer(req, res));
    return upstream;
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const handler = this.handlers.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler !== undefined) return handler(req, res, this.received);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const received: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.received.push(received);
    const body = JSON.stringify(received);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** The last request received. */
  get last(): ReceivedRequest {
    const last = this.received.at(-1);
    if (last === undefined) throw new Error('the upstream received nothing');
    return last;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Gatehouse with its gateway on real HTTP over loopback. */
export interface GatewayServer {
  readonly gatehouse: Gatehouse;
  readonly server: Server;
  readonly gateway: Gateway;
  readonly clock: ManualClock;
  readonly baseURL: string;
  readonly port: number;
  /** A cookie-keeping client that behaves like a same-origin page. */
  browser(options?: { origin?: string | null }): TestBrowser;
  /** A browser signed in as alice (role `user`). */
  signedIn(credentials?: { username: string; password: string }): Promise<TestBrowser>;
  close(): Promise<void>;
}

/**
 * Gatehouse (EdDSA keys, a SQLite file in a temporary directory, a manual
 * clock that starts at the real time so upstreams can check `exp` with their
 * own clock) with alice (role `user`) and bob (role `admin`), serving the
 * gateway as `gatehouse serve` mounts it: the gateway first, then a JSON 404.
 * `options.port` picks the port (a browser test needs its origin before start).
 */
export async function startGatewayServer(config: ConfigInput, options: GatewayOptions & { readonly port?: number } = {}): Promise<GatewayServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-gateway-'));
  const clock = new ManualClock(Date.now());
  const resolved = resolveConfig({ secret: TEST_SECRET, dataDir, publicOrigin: APP_ORIGIN, logLevel: 'silent', signing: { algorithm: 'EdDSA' }, ...config });
  const gatehouse = await createGatehouse({ config: resolved, clock, logger: createLogger('silent'), revocationSyncIntervalMs: 50 });
  await gatehouse.auth.createUser({ ...ALICE, roles: ['user'] });
  await gatehouse.auth.createUser({ ...BOB, roles: ['admin'] });
  const gateway = await createGateway(gatehouse, options);
  const server = createNodeServer(gatehouse, { fallback: gateway.handler((_req, res) => sendError(res, new GatehouseError('NOT_FOUND'))) });
  server.on('upgrade', gateway.upgrade);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const baseURL = `http://127.0.0.1:${port}`;
  const browser = (o?: { origin?: string | null }): TestBrowser => new TestBrowser(baseURL, o?.origin === undefined ? APP_ORIGIN : o.origin);
  return {
    gatehouse,
    server,
    gateway,
    clock,
    baseURL,
    port,
    browser,
    async signedIn(credentials = ALICE) {
      const b = browser();
      const login = await b.login(credentials);
      if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
      return b;
    },
    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await gatehouse.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What came back on a raw connection: the status code, the head and the body as text. */
export interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Writes `request` byte for byte on a fresh TCP connection and reads until
 * the server closes it (so send `connection: close`). For targets that `fetch`
 * and `node:http` would normalise or refuse to send (`..`, `%2e`, `\`), and
 * for smuggling attempts. `localAddress` picks the client's address (any of
 * 127.0.0.0/8 works on Linux), to be a peer that is not a trusted proxy.
 */
export function rawExchange(port: number, request: string, options: { readonly localAddress?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...options });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const rest = split === -1 ? '' : text.slice(split + 4);
      const body = /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(rest) : rest;
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
    // Not end(): a client that half-closes has its pending requests aborted by Node's server.
    socket.write(request);
  });
}

/** The payload of a chunked body. */
function dechunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (lineEnd === -1 || !(size > 0)) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** A GET for `target` with a connection: close, and extra header lines. */
export function rawGet(target: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: 'localhost:8080', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `GET ${target} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/** A loopback port that was free a moment ago: for servers whose address must be known before they start. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
