/**
 * The gateway in Chromium: a page served through the gateway signs in, calls
 * an upstream that verifies the forwarded identity with jose alone, sends an
 * unsafe request with and without the CSRF header, follows Server-Sent Events
 * and talks over a WebSocket; and a page on a sibling origin (another port of
 * the same host: same site, so the browser does send the user's cookies)
 * cannot open the user's WebSocket.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { launchChromium, openPage, SKIP_BROWSER_TESTS } from '../../../../examples/demo/test/support/chromium.js';
import { ALICE, freePort, startGatewayServer, type GatewayServer } from './gateway-support.js';

// What the page's own code touches, for the functions run inside Chromium (this file is compiled without the DOM library).
declare const document: { readonly cookie: string };
declare const location: { readonly host: string };

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>through the gateway</title></head><body>app</body></html>';

describe.skipIf(SKIP_BROWSER_TESTS)('the gateway in Chromium', () => {
  let upstream: Server;
  /** Another origin of the same site (another port on localhost), serving the same harmless page. */
  let sibling: Server;
  let siblingOrigin: string;
  let gw: GatewayServer;
  let browser: Browser;
  let origin: string;
  let port: number;
  const handshakes: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    port = await freePort();
    origin = `http://localhost:${port}`;
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`));
    upstream = createServer((req, res) => {
      if (req.url?.startsWith('/app')) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      if (req.url === '/api/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        res.end('data: two\n\n');
        return;
      }
      const token = (req.headers.authorization ?? '').slice(7);
      jwtVerify(token, jwks, { issuer: origin, audience: 'api', typ: 'gatehouse-identity+jwt' }).then(
        ({ payload }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, user: payload.preferred_username, cookie: req.headers.cookie ?? null })),
        () => res.writeHead(401).end(),
      );
    });
    const sockets = new WebSocketServer({ noServer: true });
    upstream.on('upgrade', (req, socket, head) =>
      sockets.handleUpgrade(req, socket, head, (ws) => {
        handshakes.push(req.headers);
        ws.on('message', (data) => ws.send(`echo ${String(data)}`));
      }),
    );
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGatewayServer(
      {
        publicOrigin: origin,
        gateway: {
          routes: [
            { prefix: '/app', upstream: upstreamURL, audience: 'app', auth: 'optional' },
            { prefix: '/api', upstream: upstreamURL, audience: 'api' },
            { prefix: '/live', upstream: upstreamURL, audience: 'api', websocket: true },
          ],
        },
      },
      { port },
    );
    sibling = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
    await new Promise<void>((resolve) => sibling.listen(0, '127.0.0.1', resolve));
    siblingOrigin = `http://localhost:${(sibling.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await new Promise<void>((resolve) => sibling?.close(() => resolve()));
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
  });

  it('signs in, and the upstream verifies who is calling; cookies never reach it; CSRF holds; events and a WebSocket work', async () => {
    const { page, context, problems } = await openPage(browser, origin);
    await page.goto('/app/');
    const result = await page.evaluate(async (credentials) => {
      const login = await fetch('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
      const xsrf = decodeURIComponent(/(?:^|; )XSRF-TOKEN=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const whoami = await (await fetch('/api/whoami')).json();
      const withToken = await fetch('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'x-xsrf-token': xsrf }, body: '{}' });
      const withoutToken = await fetch('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const events = await new Promise<string[]>((resolve, reject) => {
        const seen: string[] = [];
        const source = new EventSource('/api/events');
        source.onmessage = (event) => {
          seen.push(event.data as string);
          if (seen.length === 2) {
            source.close();
            resolve(seen);
          }
        };
        source.onerror = () => reject(new Error('EventSource failed'));
      });
      const echo = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/live/room`);
        ws.onopen = () => ws.send('hello');
        ws.onmessage = (event) => {
          resolve(event.data as string);
          ws.close();
        };
        ws.onerror = () => reject(new Error('WebSocket failed'));
      });
      return { login: login.status, whoami, withToken: withToken.status, withoutToken: withoutToken.status, events, echo };
    }, ALICE);
    expect(result).toEqual({
      login: 200,
      whoami: { method: 'GET', user: 'alice', cookie: null },
      withToken: 200,
      withoutToken: 403,
      events: ['one', 'two'],
      echo: 'echo hello',
    });
    expect(handshakes.at(-1)?.cookie).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a page on a sibling origin (same site: the cookies go along) cannot open the user’s WebSocket', async () => {
    const { page, context } = await openPage(browser, origin);
    await page.goto('/app/');
    expect(await page.evaluate(async (c) => (await fetch('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) })).status, ALICE)).toBe(200);
    const before = handshakes.length;
    // What reaches the gateway: the browser did send the session cookie, with the sibling's Origin.
    const arrived: { origin: string | undefined; cookie: boolean }[] = [];
    gw.server.prependListener('upgrade', (req) => arrived.push({ origin: req.headers.origin, cookie: (req.headers.cookie ?? '').includes('__Host-gh_access=') }));
    await page.goto(`${siblingOrigin}/`);
    const outcome = await page.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(target);
          ws.onopen = () => resolve('opened');
          ws.onerror = () => resolve('refused');
        }),
      `ws://localhost:${port}/live/room`,
    );
    expect(outcome).toBe('refused');
    expect(arrived).toEqual([{ origin: siblingOrigin, cookie: true }]);
    expect(handshakes.length).toBe(before);
    // The same socket from the app's own origin opens: the refusal was the Origin check, not a missing session.
    await page.goto('/app/');
    expect(
      await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/live/room`);
            ws.onopen = () => {
              resolve('opened');
              ws.close();
            };
            ws.onerror = () => resolve('refused');
          }),
      ),
    ).toBe('opened');
    await context.close();
  });
});
