import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { TestBrowser } from '../support/test-browser.js';
import { APP_ORIGIN, BOB, rawExchange, startGatewayServer, type GatewayServer } from './gateway-support.js';

let upstream: Server;
let upstreamURL: string;
/** Handshake headers of every upgrade the upstream accepted. */
const handshakes: IncomingHttpHeaders[] = [];
let gw: GatewayServer;
let alice: TestBrowser;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.writeHead(404).end());
  const sockets = new WebSocketServer({ noServer: true });
  upstream.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/live/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 19\r\n\r\nupstream says no: x');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      handshakes.push(req.headers);
      ws.send(JSON.stringify({ hello: req.url }));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startGatewayServer({
    gateway: {
      routes: [
        { prefix: '/live', upstream: upstreamURL, audience: 'live', websocket: true },
        { prefix: '/admin-live', upstream: upstreamURL, audience: 'live', websocket: true, roles: ['admin'] },
        { prefix: '/plain', upstream: upstreamURL, audience: 'plain' },
      ],
    },
  });
  alice = await gw.signedIn();
});

afterAll(async () => {
  await gw.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

let before: number;
beforeEach(() => {
  before = handshakes.length;
});

type Opened = { readonly ws: WebSocket; readonly first: unknown } | { readonly status: number; readonly body: any };

/** Opens a WebSocket through the gateway (`origin` null: no Origin header); resolves with the socket and its first message, or with the refusal. */
function open(path: string, headers: Record<string, string>, origin: string | null = APP_ORIGIN): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, { headers, ...(origin === null ? {} : { origin }) });
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) }));
    });
    ws.once('error', reject);
  });
}

function refusal(opened: Opened): { status: number; body: any } {
  if ('ws' in opened) {
    opened.ws.close();
    throw new Error('the handshake was expected to fail');
  }
  return opened;
}

describe('a WebSocket through the gateway', () => {
  it('opens for a signed-in page of a trusted origin, and carries messages both ways', async () => {
    const opened = await open('/live/room/1?since=5', { cookie: alice.cookieHeader('/live') });
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    expect(opened.first).toEqual({ hello: '/live/room/1?since=5' });
    const echoed = new Promise<string>((resolve) => opened.ws.once('message', (data) => resolve(String(data))));
    opened.ws.send('x'.repeat(200_000));
    expect(await echoed).toHaveLength(200_000);
    opened.ws.close();
  });

  it('the upstream’s handshake carries the identity token and none of the browser’s cookies', async () => {
    const opened = await open('/live/room/2', { cookie: alice.cookieHeader('/live') });
    if ('ws' in opened) opened.ws.close();
    const headers = handshakes.at(-1) ?? {};
    expect(headers.cookie).toBeUndefined();
    const token = (headers.authorization ?? '').slice(7);
    expect(decodeProtectedHeader(token).typ).toBe('gatehouse-identity+jwt');
    expect(decodeJwt(token)).toMatchObject({ aud: 'live', preferred_username: 'alice' });
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('refuses a page of another origin with the user’s cookies (cross-site WebSocket hijacking): 403, nothing upstream', async () => {
    const res = refusal(await open('/live/room/1', { cookie: alice.cookieHeader('/live') }, 'https://evil.example'));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ORIGIN_REJECTED');
    expect(handshakes.length).toBe(before);
  });

  it('refuses cookies without any Origin: only Bearer callers (never browsers) may leave it out', async () => {
    const res = refusal(await open('/live/room/1', { cookie: alice.cookieHeader('/live') }, null));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ORIGIN_REJECTED');
    expect(handshakes.length).toBe(before);
  });

  it('lets a Bearer caller in without Origin', async () => {
    const opened = await open('/live/room/3', { authorization: `Bearer ${alice.cookie('__Host-gh_access')}` }, null);
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    opened.ws.close();
  });

  it('refuses a handshake without a session (401) and a missing role (403)', async () => {
    expect(refusal(await open('/live/room/1', {})).status).toBe(401);
    const res = refusal(await open('/admin-live/x', { cookie: alice.cookieHeader('/admin-live') }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(handshakes.length).toBe(before);
    const bob = await gw.signedIn(BOB);
    const opened = await open('/admin-live/x', { cookie: bob.cookieHeader('/admin-live') });
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    opened.ws.close();
  });

  it('refuses a route that does not allow WebSockets (404) and a path trick (400)', async () => {
    expect(refusal(await open('/plain/x', { cookie: alice.cookieHeader('/plain') })).status).toBe(404);
    const trick = refusal(await open('/live/x%2f..%2fadmin-live', { cookie: alice.cookieHeader('/live') }));
    expect(trick.status).toBe(400);
    expect(trick.body.error.code).toBe('PATH_REJECTED');
    expect(handshakes.length).toBe(before);
  });

  it('refuses other upgrades, h2c above all, whatever the route', async () => {
    const answer = await rawExchange(
      gw.port,
      `GET /live/x HTTP/1.1\r\nhost: localhost:8080\r\norigin: ${APP_ORIGIN}\r\ncookie: ${alice.cookieHeader('/live')}\r\n` +
        'connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    expect(answer.status).toBe(405);
    expect(answer.head).toMatch(/\r\nallow: GET\r\n/i);
    expect(handshakes.length).toBe(before);
  });

  it('refuses a handshake by another method than GET: 405 with Allow: GET', async () => {
    const answer = await rawExchange(
      gw.port,
      `POST /live/x HTTP/1.1\r\nhost: localhost:8080\r\norigin: ${APP_ORIGIN}\r\ncookie: ${alice.cookieHeader('/live')}\r\n` +
        'connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\ncontent-length: 0\r\n\r\n',
    );
    expect(answer.status).toBe(405);
    expect(answer.head).toMatch(/\r\nallow: GET\r\n/i);
    expect(handshakes.length).toBe(before);
  });

  it('answers 502 UPSTREAM_UNAVAILABLE when the upstream refuses the upgrade, with nothing of its answer', async () => {
    const res = refusal(await open('/live/refuse', { cookie: alice.cookieHeader('/live') }));
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: { code: 'UPSTREAM_UNAVAILABLE', message: 'The upstream service is unavailable.' } });
  });

  it('cuts an open socket once its session reaches its absolute expiry', async () => {
    const dave = await gw.signedIn();
    const opened = await open('/live/room/11', { cookie: dave.cookieHeader('/live') });
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    const closed = new Promise<void>((resolve) => opened.ws.once('close', () => resolve()));
    const start = gw.clock.now();
    gw.clock.advance(30 * 86_400_000); // session.absoluteTimeoutSeconds, the default 30 days
    await closed;
    gw.clock.set(start);
  });

  it('cuts an open socket soon after its user changes (a role removed): the roles it was opened with are no longer the user\'s', async () => {
    const bob = await gw.signedIn(BOB);
    const opened = await open('/admin-live/room/11', { cookie: bob.cookieHeader('/admin-live') });
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    const closed = new Promise<void>((resolve) => opened.ws.once('close', () => resolve()));
    await gw.gatehouse.auth.changeRoles(BOB.username, { remove: ['admin'] });
    await closed;
    await gw.gatehouse.auth.changeRoles(BOB.username, { add: ['admin'] });
  });

  it('cuts an open socket soon after its session is revoked', async () => {
    const carol = await gw.signedIn();
    const opened = await open('/live/room/9', { cookie: carol.cookieHeader('/live') });
    if (!('ws' in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
    const closed = new Promise<void>((resolve) => opened.ws.once('close', () => resolve()));
    expect((await carol.post('/auth/logout')).status).toBe(204);
    await closed;
    // Another session's socket stays open.
    const still = await open('/live/room/10', { cookie: alice.cookieHeader('/live') });
    if (!('ws' in still)) throw new Error('alice was refused');
    expect(still.ws.readyState).toBe(WebSocket.OPEN);
    still.ws.close();
  });
});
