/**
 * The signature guard in every adapter, over real HTTP on loopback: the
 * same upstream API (`POST /api/orders`, `GET /api/orders/7`) on node:http,
 * Express, Fastify and Hono, called by clients that sign with Gatehouse's
 * signer and with the independent `http-message-signatures` package.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { createSigner, httpbis } from 'http-message-signatures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { expressSignatureGuard } from '../../src/http/express.js';
import { fastifySignatureGuard } from '../../src/http/fastify.js';
import { honoSignatureGuard, type SignatureEnv } from '../../src/http/hono.js';
import { nodeSignatureGuard } from '../../src/http/node.js';
import { signRequest } from '../../src/signatures/signer.js';
import { SignatureVerifier } from '../../src/signatures/verifier.js';
import { rawExchange } from '../support/raw-http.js';
import { InMemoryConsumeOnce, newEd25519Key, newHMACKey } from './support.js';

type Adapter = 'node' | 'express' | 'fastify' | 'hono';
const ADAPTERS: readonly Adapter[] = ['node', 'express', 'fastify', 'hono'];
const BODY_LIMIT = 4096;

const partner = newHMACKey('partner-a');
const robot = newEd25519Key('robot-b');

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What every app answers for a verified request: the client and the body it read (as text, or as parsed JSON). */
interface Echo {
  readonly keyid: string;
  readonly body: unknown;
}

async function mount(adapter: Adapter, verifier: SignatureVerifier): Promise<Server> {
  const options = { bodyLimitBytes: BODY_LIMIT };
  switch (adapter) {
    case 'node': {
      const guard = nodeSignatureGuard(verifier, options);
      return createServer((req, res) => {
        void guard(req, res).then((signed) => {
          if (signed === undefined) return;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keyid: signed.signature.keyid, body: signed.body.toString('utf8') } satisfies Echo));
        });
      });
    }
    case 'express': {
      const app = express();
      const guard = expressSignatureGuard(verifier, options);
      const echo = (req: express.Request, res: express.Response) => {
        res.json({ keyid: req.signature?.keyid ?? '', body: req.signedBody?.toString('utf8') } satisfies Echo);
      };
      app.post('/api/orders', guard, express.json(), echo);
      app.get('/api/orders/7', guard, echo);
      return createServer(app);
    }
    case 'fastify': {
      let server: Server | undefined;
      const app = Fastify({ serverFactory: (handler) => (server = createServer(handler)) });
      const preParsing = fastifySignatureGuard(verifier, options);
      app.post('/api/orders', { preParsing }, async (request) => ({ keyid: request.signature?.keyid ?? '', body: request.body }) satisfies Echo);
      app.get('/api/orders/7', { preParsing }, async (request) => ({ keyid: request.signature?.keyid ?? '', body: '' }) satisfies Echo);
      await app.ready();
      if (server === undefined) throw new Error('Fastify built no server');
      return server;
    }
    case 'hono': {
      const app = new Hono<SignatureEnv>();
      const guard = honoSignatureGuard(verifier, options);
      app.post('/api/orders', guard, async (c) => c.json({ keyid: c.get('signature').keyid, body: await c.req.json<unknown>() } satisfies Echo));
      app.get('/api/orders/7', guard, (c) => c.json({ keyid: c.get('signature').keyid, body: '' } satisfies Echo));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
  }
}

const ORDER = JSON.stringify({ item: 'lamp', quantity: 2 });
const JSON_TYPE = { 'content-type': 'application/json' };

/** A body as the apps echo it: node and Express return the text, Fastify and Hono the parsed JSON. */
function asText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

describe.each(ADAPTERS)('the signature guard on %s', (adapter) => {
  let server: Server;
  let origin: string;
  let nonces: InMemoryConsumeOnce;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    nonces = new InMemoryConsumeOnce(systemClock);
    const verifier = new SignatureVerifier({ keys: [partner.key, robot.verification], origins: [origin], consumeOnce: nonces });
    server = await mount(adapter, verifier);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  const signedPost = (body = ORDER, key = partner.key) => ({
    ...JSON_TYPE,
    ...signRequest({ method: 'POST', url: `${origin}/api/orders`, headers: JSON_TYPE, body }, { key }),
  });

  async function send(method: string, path: string, headers: Record<string, string>, body?: string) {
    const response = await fetch(`${origin}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const json = (await response.json()) as Echo & { error?: { code: string; message: string } };
    return { status: response.status, json, contentType: response.headers.get('content-type') };
  }

  it('lets a signed POST through: the handler sees the client (keyid) and the verified body', async () => {
    const { status, json } = await send('POST', '/api/orders', signedPost(), ORDER);
    expect(status).toBe(200);
    expect(json.keyid).toBe('partner-a');
    expect(asText(json.body)).toBe(ORDER);
  });

  it('lets an ed25519-signed GET through, no body', async () => {
    const headers = signRequest({ method: 'GET', url: `${origin}/api/orders/7` }, { key: robot.signing });
    const { status, json } = await send('GET', '/api/orders/7', headers);
    expect({ status, keyid: json.keyid }).toEqual({ status: 200, keyid: 'robot-b' });
  });

  it('lets a request signed by http-message-signatures through', async () => {
    const headers: Record<string, string> = {
      ...JSON_TYPE,
      host: new URL(origin).host,
      'content-digest': `sha-256=:${createHash('sha256').update(ORDER).digest('base64')}:`,
    };
    const signed = await httpbis.signMessage(
      {
        key: createSigner(robot.signing.key, 'ed25519', 'robot-b'),
        fields: ['@method', '@target-uri', 'content-digest', 'content-type'],
        params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
        paramValues: { nonce: randomBytes(16).toString('base64url') },
      },
      { method: 'POST', url: `${origin}/api/orders`, headers },
    );
    const sent = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host')) as Record<string, string>;
    const { status, json } = await send('POST', '/api/orders', sent, ORDER);
    expect({ status, keyid: json.keyid, body: asText(json.body) }).toEqual({ status: 200, keyid: 'robot-b', body: ORDER });
  });

  it('refuses an unsigned request: 401 SIGNATURE_MISSING in Gatehouse\'s JSON error shape', async () => {
    const { status, json, contentType } = await send('POST', '/api/orders', JSON_TYPE, ORDER);
    expect(status).toBe(401);
    expect(json.error?.code).toBe('SIGNATURE_MISSING');
    expect(contentType).toMatch(/^application\/json/);
  });

  it('refuses the same signed request a second time: 401 SIGNATURE_REPLAYED', async () => {
    const headers = signedPost();
    expect((await send('POST', '/api/orders', headers, ORDER)).status).toBe(200);
    const replay = await send('POST', '/api/orders', headers, ORDER);
    expect({ status: replay.status, code: replay.json.error?.code }).toEqual({ status: 401, code: 'SIGNATURE_REPLAYED' });
  });

  it('refuses the signature sent with another body: 401 SIGNATURE_DIGEST_MISMATCH, and the handler never runs', async () => {
    const other = JSON.stringify({ item: 'lamp', quantity: 200 });
    const { status, json } = await send('POST', '/api/orders', signedPost(), other);
    expect({ status, code: json.error?.code, keyid: json.keyid }).toEqual({ status: 401, code: 'SIGNATURE_DIGEST_MISMATCH', keyid: undefined });
  });

  it('refuses a tampered target: 401 SIGNATURE_INVALID', async () => {
    const headers = signRequest({ method: 'GET', url: `${origin}/api/orders/8` }, { key: partner.key });
    const { status, json } = await send('GET', '/api/orders/7', headers);
    expect({ status, code: json.error?.code }).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
  });

  it('refuses a body signed without content-digest: 401 SIGNATURE_COMPONENT_MISSING', async () => {
    const headers = { ...JSON_TYPE, ...signRequest({ method: 'POST', url: `${origin}/api/orders` }, { key: partner.key }) };
    const { status, json } = await send('POST', '/api/orders', headers, ORDER);
    expect({ status, code: json.error?.code }).toEqual({ status: 401, code: 'SIGNATURE_COMPONENT_MISSING' });
  });

  it('refuses a signed body over the limit: 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ note: 'x'.repeat(BODY_LIMIT) });
    const { status, json } = await send('POST', '/api/orders', signedPost(big), big);
    expect({ status, code: json.error?.code }).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it.each([
    ['declared by Content-Length', 5 * BODY_LIMIT, BODY_LIMIT / 2],
    ['streaming past the limit', 2 * BODY_LIMIT, BODY_LIMIT + 100],
  ])('closes the connection after a 413 (%s) whose body it did not read, so the rest is never taken for a request', async (_, declared, sent) => {
    const big = 'x'.repeat(declared);
    const headers = Object.entries({ ...signedPost(big), host: new URL(origin).host, 'content-length': String(declared) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    // The body is shorter than its Content-Length: the second request's bytes would be read as the first one's body.
    const exchange = await rawExchange(origin, `POST /api/orders HTTP/1.1\r\n${headers}\r\n${big.slice(0, sent)}GET /api/orders/7 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [head] = exchange.text.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.text.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
  });
});

describe('mounting mistakes and other runtimes', () => {
  const verifier = () =>
    new SignatureVerifier({ keys: [partner.key], origins: ['http://api.example.test'], consumeOnce: new InMemoryConsumeOnce(systemClock) });

  it('Express: a body parser mounted before the guard makes it fail closed (500), with a warning, never pass', async () => {
    const app = express();
    app.use(express.json());
    app.post('/api/orders', expressSignatureGuard(verifier()), (_req, res) => {
      res.json({ reached: true });
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const headers = { ...JSON_TYPE, ...signRequest({ method: 'POST', url: `${origin}/api/orders`, headers: JSON_TYPE, body: ORDER }, { key: partner.key }) };
      const response = await fetch(`${origin}/api/orders`, { method: 'POST', headers, body: ORDER });
      expect(response.status).toBe(500);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INTERNAL_ERROR');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toContain('GATEHOUSE_SIGNATURE_BODY_READ');
    } finally {
      process.off('warning', onWarning);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });

  it('Hono without a Node server (app.request, a Web Request): verifies from the URL and reads the body', async () => {
    const app = new Hono<SignatureEnv>();
    app.post('/api/orders', honoSignatureGuard(verifier()), async (c) => c.json({ keyid: c.get('signature').keyid, order: await c.req.json<unknown>() }));
    const url = 'http://api.example.test/api/orders';
    const headers = { ...JSON_TYPE, ...signRequest({ method: 'POST', url, headers: JSON_TYPE, body: ORDER }, { key: partner.key }) };
    const ok = await app.request(url, { method: 'POST', headers, body: ORDER });
    const okBody = await ok.json();
    expect(okBody, JSON.stringify(okBody)).toEqual({ keyid: 'partner-a', order: JSON.parse(ORDER) });
    const replay = await app.request(url, { method: 'POST', headers, body: ORDER });
    expect(replay.status).toBe(401);
  });
});
