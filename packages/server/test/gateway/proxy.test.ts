import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, APP_ORIGIN, BOB, rawExchange, rawGet, startGatewayServer, TestUpstream, type GatewayServer } from './gateway-support.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let api: TestUpstream;
let other: TestUpstream;
let gw: GatewayServer;

beforeAll(async () => {
  api = await TestUpstream.start();
  other = await TestUpstream.start();
  const down = await closedPort();
  gw = await startGatewayServer({
    gateway: {
      routes: [
        { prefix: '/api', upstream: api.url, audience: 'api' },
        { prefix: '/api/admin', upstream: `${api.url}/admin-service`, audience: 'admin-api', roles: ['admin'], stripPrefix: true },
        { prefix: '/public', upstream: `${other.url}/site`, audience: 'public', auth: 'optional', stripPrefix: true, cookies: ['prefs'] },
        { prefix: '/down', upstream: `http://127.0.0.1:${down}`, audience: 'down' },
        { prefix: '/slow', upstream: api.url, audience: 'slow', timeouts: { responseSeconds: 1 } },
      ],
    },
  });
  // Answers only after the test is over: the gateway must give up first.
  api.handlers.set('/slow/never', () => undefined);
  other.handlers.set('/site/cookies', (_req, res) => {
    res.writeHead(200, {
      'set-cookie': ['prefs=light; Path=/', '__Host-gh_access=planted; Path=/; Secure', 'XSRF-TOKEN=planted; Path=/', 'tracking=1; Path=/'],
      'content-type': 'application/json',
    });
    res.end('{}');
  });
  other.handlers.set('/site/hop', (_req, res) => {
    res.writeHead(200, { connection: 'x-internal-note', 'x-internal-note': 'db=primary-3', 'keep-alive': 'timeout=77', 'content-type': 'application/json' });
    res.end('{}');
  });
});

afterAll(async () => {
  await gw.close();
  await api.close();
  await other.close();
});

let before: number;
beforeEach(() => {
  before = api.received.length + other.received.length;
});
const nothingReachedAnUpstream = () => expect(api.received.length + other.received.length).toBe(before);

describe('the allowlist', () => {
  it('proxies a signed-in GET to the route’s upstream, path and query unchanged', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/api/orders/7?expand=items&x=%20y');
    expect(res.status).toBe(200);
    expect(res.body.method).toBe('GET');
    expect(res.body.url).toBe('/api/orders/7?expand=items&x=%20y');
  });

  it('answers a path that matches no route itself (404), and nothing leaves', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/apiary/x');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    nothingReachedAnUpstream();
  });

  it('sends the longest matching prefix’s route, with its prefix stripped onto the upstream’s own path', async () => {
    const bob = await gw.signedIn(BOB);
    const res = await bob.get('/api/admin/users?page=2');
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('/admin-service/users?page=2');
  });

  it.each([
    ['a dot-dot segment', '/api/../admin/users'],
    ['an encoded dot-dot', '/api/%2e%2e/api/admin/users'],
    ['an encoded slash', '/api/x%2f..%2fadmin'],
    ['double encoding', '/api/%252e%252e/admin'],
    ['a backslash', '/api\\..\\admin'],
    ['an encoded letter', '/api/%61dmin/users'],
    ['an empty segment', '/api//admin/users'],
    ['a path parameter', '/api/admin;/users'],
    ['a trailing-dot segment', '/api/admin./users'],
  ])('refuses %s with 400 PATH_REJECTED before any upstream sees it', async (_what, target) => {
    const alice = await gw.signedIn();
    const answer = await rawExchange(gw.port, rawGet(target, { cookie: alice.cookieHeader('/api') }));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe('PATH_REJECTED');
    nothingReachedAnUpstream();
  });

  it('matches prefixes regardless of letter case, so /API/ADMIN still needs the admin role', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/API/ADMIN/users');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    nothingReachedAnUpstream();
  });
});

describe('authentication and CSRF at the gateway', () => {
  it('refuses a request without a session with 401 and sends nothing upstream', async () => {
    const res = await gw.browser().get('/api/orders');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
    nothingReachedAnUpstream();
  });

  it('refuses a missing role with 403 FORBIDDEN', async () => {
    const alice = await gw.signedIn(ALICE);
    const res = await alice.get('/api/admin/users');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    nothingReachedAnUpstream();
  });

  it('lets an anonymous request through an optional route, with no Authorization', async () => {
    const res = await gw.browser().get('/public/page');
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('/site/page');
    expect(res.body.headers.authorization).toBeUndefined();
  });

  it('refuses an unsafe request under cookies without the CSRF token (403), nothing upstream', async () => {
    const alice = await gw.signedIn();
    const res = await alice.post('/api/orders', { json: { item: 1 }, xsrf: false });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('CSRF_REJECTED');
    nothingReachedAnUpstream();
  });

  it('refuses an unsafe request from a foreign origin, even with the token', async () => {
    const alice = await gw.signedIn();
    const res = await alice.fork({ origin: 'https://evil.example' }).post('/api/orders', { json: { item: 1 }, xsrf: true });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('CSRF_REJECTED');
    nothingReachedAnUpstream();
  });

  it('refuses an anonymous unsafe request on an optional route without an anonymous CSRF token', async () => {
    const res = await gw.browser().post('/public/form', { body: 'a=1', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('CSRF_REJECTED');
    nothingReachedAnUpstream();
  });

  it('passes an unsafe request with Origin and the CSRF token, body intact, token not forwarded', async () => {
    const alice = await gw.signedIn();
    const res = await alice.request('PATCH', '/api/orders/7', { json: { note: 'leave at the door' } });
    expect(res.status).toBe(200);
    expect(res.body.method).toBe('PATCH');
    expect(JSON.parse(res.body.body)).toEqual({ note: 'leave at the door' });
    expect(res.body.headers['x-xsrf-token']).toBeUndefined();
  });

  it('refuses the session on the next request after logout', async () => {
    const alice = await gw.signedIn();
    const stolen = alice.cookieHeader('/api');
    expect((await alice.post('/auth/logout')).status).toBe(204);
    const res = await gw.browser().get('/api/orders', { headers: { cookie: stolen } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_REVOKED');
    nothingReachedAnUpstream();
  });

  it('ignores X-HTTP-Method-Override: a GET stays a GET upstream (no CSRF bypass through the upstream)', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/api/orders/7', { headers: { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE' } });
    expect(res.status).toBe(200);
    expect(res.body.method).toBe('GET');
    expect(res.body.headers['x-http-method-override']).toBeUndefined();
    expect(res.body.headers['x-method-override']).toBeUndefined();
  });
});

describe('what the upstream receives', () => {
  it('never the browser’s cookies or Authorization, but an identity token of its own typ', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/api/me');
    const { headers } = res.body;
    expect(headers.cookie).toBeUndefined();
    expect(headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeProtectedHeader(headers.authorization.slice(7)).typ).toBe('gatehouse-identity+jwt');
    expect(JSON.stringify(headers)).not.toContain(alice.cookie('__Host-gh_access') ?? 'no-cookie');
  });

  it('only the route’s own cookies, both ways; an upstream cannot set or clear a Gatehouse cookie', async () => {
    const alice = await gw.signedIn();
    alice.jar.set('prefs', { value: 'dark', path: '/' });
    alice.jar.set('tracking', { value: 'abc', path: '/' });
    const echoed = await alice.get('/public/page');
    expect(echoed.body.headers.cookie).toBe('prefs=dark');
    const res = await alice.get('/public/cookies');
    expect(res.setCookies.map((c) => c.name)).toEqual(['prefs']);
    expect(alice.cookie('__Host-gh_access')).not.toBe('planted');
  });

  it('X-Forwarded-For/-Proto/-Host written by the gateway; spoofed ones, Forwarded and friends dropped', async () => {
    const alice = await gw.signedIn();
    const answer = await rawExchange(
      gw.port,
      rawGet('/api/whoami', {
        host: 'evil.example',
        cookie: alice.cookieHeader('/api'),
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-uri': '/public/open',
        'x-forwarded-prefix': '/evil',
        forwarded: 'for=203.0.113.9;host=evil.example;proto=https',
        'x-real-ip': '203.0.113.9',
        'x-original-uri': '/public/open',
        'true-client-ip': '203.0.113.9',
        'x-gatehouse-subject': 'someone-else',
      }),
    );
    expect(answer.status).toBe(200);
    const { headers } = JSON.parse(answer.body);
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-host']).toBe(new URL(APP_ORIGIN).host);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers.host).toBe(new URL(api.url).host);
    for (const name of ['forwarded', 'x-forwarded-uri', 'x-forwarded-prefix', 'x-real-ip', 'x-original-uri', 'true-client-ip', 'x-gatehouse-subject']) {
      expect(headers[name], name).toBeUndefined();
    }
  });

  it('no hop-by-hop headers, including those the request names in Connection', async () => {
    const alice = await gw.signedIn();
    const answer = await rawExchange(
      gw.port,
      rawGet('/api/hop', { cookie: alice.cookieHeader('/api'), connection: 'close, x-hop-secret', 'x-hop-secret': 'do-not-forward', te: 'trailers', 'keep-alive': 'timeout=5' }),
    );
    expect(answer.status).toBe(200);
    const { headers } = JSON.parse(answer.body);
    expect(headers['x-hop-secret']).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
  });

  it('a redirect to the upstream’s own address reaches the browser as the public path', async () => {
    api.handlers.set('/admin-service/moved', (_req, res) => void res.writeHead(302, { location: `${api.url}/admin-service/users/2?from=moved` }).end());
    const bob = await gw.signedIn(BOB);
    const res = await bob.get('/api/admin/moved');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/api/admin/users/2?from=moved');
  });

  it('and the browser gets no hop-by-hop headers of the upstream’s, nor those it names in Connection', async () => {
    const res = await gw.browser().get('/public/hop');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-internal-note')).toBeNull();
    // Node's server writes a Keep-Alive of its own; the upstream's is not passed on.
    expect(res.headers.get('keep-alive') ?? '').not.toContain('77');
  });
});

describe('caching of personal answers', () => {
  it('an answer to a signed-in caller without Cache-Control is marked private; the upstream’s own Cache-Control is kept', async () => {
    api.handlers.set('/api/cached', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' }).end('{}'));
    const alice = await gw.signedIn();
    expect((await alice.get('/api/orders')).headers.get('cache-control')).toBe('private');
    expect((await alice.get('/api/cached')).headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('an anonymous answer is left as the upstream sent it', async () => {
    expect((await gw.browser().get('/public/page')).headers.get('cache-control')).toBeNull();
  });
});

describe('request smuggling', () => {
  it('refuses Content-Length together with Transfer-Encoding (400), and nothing reaches the upstream', async () => {
    const alice = await gw.signedIn();
    const body = '0\r\n\r\nGET /api/admin/users HTTP/1.1\r\nhost: x\r\n\r\n';
    const request =
      `POST /api/orders HTTP/1.1\r\nhost: localhost:8080\r\norigin: ${APP_ORIGIN}\r\ncookie: ${alice.cookieHeader('/api')}\r\n` +
      `x-xsrf-token: ${alice.cookie('XSRF-TOKEN')}\r\ncontent-length: ${body.length}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${body}`;
    const answer = await rawExchange(gw.port, request);
    expect(answer.status).toBe(400);
    nothingReachedAnUpstream();
  });

  it('refuses two different Content-Length headers (400)', async () => {
    const request = `POST /public/form HTTP/1.1\r\nhost: localhost:8080\r\ncontent-length: 3\r\ncontent-length: 30\r\nconnection: close\r\n\r\nabc`;
    const answer = await rawExchange(gw.port, request);
    expect(answer.status).toBe(400);
    nothingReachedAnUpstream();
  });
});

describe('upstream failures are Gatehouse JSON errors with nothing of the upstream in them', () => {
  it('502 UPSTREAM_UNAVAILABLE when the upstream refuses connections', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/down/x');
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: { code: 'UPSTREAM_UNAVAILABLE', message: 'The upstream service is unavailable.' } });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('504 UPSTREAM_TIMEOUT when the upstream sends no answer within the route’s responseSeconds', async () => {
    const alice = await gw.signedIn();
    const res = await alice.get('/slow/never');
    expect(res.status).toBe(504);
    expect(res.body).toEqual({ error: { code: 'UPSTREAM_TIMEOUT', message: 'The upstream service did not answer in time.' } });
  });
});
