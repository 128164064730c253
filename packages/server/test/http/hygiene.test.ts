import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer } from '../../src/http/node.js';
import { ALICE, APP_ORIGIN, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

const ACCESS = '__Host-gh_access';
const REFRESH = '__Secure-gh_refresh';
const BODY_LIMIT = 16 * 1024;
/** A V8 stack frame as it would appear in a leaked trace. */
const STACK_LINE = /\bat .*(\(|\/|:\d+:\d+)/;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function signedIn(): Promise<TestBrowser> {
  const browser = server.browser();
  expect((await browser.login(ALICE)).status).toBe(200);
  return browser;
}

function expectError(response: TestResponse | RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.body).toEqual({ error: { code, message: expect.any(String) } });
}

/** Cookies and XSRF header of a signed-in browser, for node:http requests. */
function credentials(browser: TestBrowser, path = '/'): Record<string, string> {
  return { origin: APP_ORIGIN, cookie: browser.cookieHeader(path), 'x-xsrf-token': browser.cookie('XSRF-TOKEN')! };
}

describe('security headers', () => {
  const cases: { what: string; send: (b: TestBrowser) => Promise<TestResponse> }[] = [
    { what: 'POST /auth/login (200)', send: (b) => b.login(ALICE) },
    { what: 'GET /auth/me (200)', send: (b) => b.get('/auth/me') },
    { what: 'GET /auth/me without a session (401)', send: (b) => b.get('/auth/me', { noCookies: true }) },
    { what: 'GET /auth/unknown (404)', send: (b) => b.get('/auth/unknown') },
    { what: 'POST /auth/logout (204)', send: (b) => b.post('/auth/logout') },
    { what: 'GET /api/private (200)', send: (b) => b.get('/api/private') },
    { what: 'POST /api/private without CSRF (403)', send: (b) => b.post('/api/private', { xsrf: false }) },
    { what: 'GET /api/admin (403)', send: (b) => b.get('/api/admin') },
  ];

  it.each(cases)('are on $what', async ({ send }) => {
    const response = await send(await signedIn());
    const h = response.headers;
    expect(h.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
    expect(h.get('x-content-type-options')).toBe('nosniff');
    expect(h.get('referrer-policy')).toMatch(/^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/);
    expect(h.get('x-frame-options') === 'DENY' || /frame-ancestors 'none'/.test(h.get('content-security-policy') ?? '')).toBe(true);
    expect(h.get('x-powered-by')).toBeNull();
    expect(h.get('cache-control')).toBe('no-store');
  });
});

describe('methods', () => {
  it('answers GET /auth/login with 405 and Allow: POST', async () => {
    const response = await server.browser().get('/auth/login');
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('does not log out over GET: 405 with Allow: POST, and the session lives on', async () => {
    const browser = await signedIn();
    const response = await browser.get('/auth/logout');
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('POST');
    expect((await browser.get('/auth/me')).status).toBe(200);
  });

  it('answers HEAD /auth/me like GET, without a body', async () => {
    const browser = await signedIn();
    const get = await browser.get('/auth/me');
    const head = await browser.request('HEAD', '/auth/me');
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('cache-control')).toBe('no-store');
    const anonymous = await server.browser().request('HEAD', '/auth/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toBeNull();
  });

  it.each([
    ['/auth/me', 'GET, HEAD'],
    ['/auth/login', 'POST'],
    // Outside /auth the server cannot know the application's routes: Allow names every method it does not refuse.
    ['/api/private', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
  ])('refuses TRACE %s with 405, Allow: %s, and echoes nothing', async (path, allow) => {
    const browser = await signedIn();
    const response = await rawRequest(server.baseURL, { method: 'TRACE', path, headers: credentials(browser) });
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe(allow);
    expect(response.text).not.toContain(browser.cookie(ACCESS));
  });

  it.each<{ what: string; path: (id: string) => string; headers: Record<string, string> }>([
    { what: 'X-HTTP-Method-Override: DELETE', path: (id: string) => `/auth/sessions/${id}`, headers: { 'x-http-method-override': 'DELETE' } },
    { what: 'X-HTTP-Method: DELETE', path: (id: string) => `/auth/sessions/${id}`, headers: { 'x-http-method': 'DELETE' } },
    { what: 'X-Method-Override: DELETE', path: (id: string) => `/auth/sessions/${id}`, headers: { 'x-method-override': 'DELETE' } },
    { what: '?_method=DELETE', path: (id: string) => `/auth/sessions/${id}?_method=DELETE`, headers: {} },
  ])('ignores $what on POST /auth/sessions/:id (405, nothing revoked)', async ({ path, headers }) => {
    const browser = await signedIn();
    const sessionId = (await browser.get('/auth/me')).body.session.id as string;
    const response = await browser.post(path(sessionId), { headers });
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('DELETE');
    expect((await browser.get('/auth/me')).status).toBe(200);
  });

  it('ignores X-HTTP-Method-Override: POST on GET /auth/logout (405, still signed in)', async () => {
    const browser = await signedIn();
    const response = await browser.get('/auth/logout?_method=POST', { headers: { 'x-http-method-override': 'POST' } });
    expectError(response, 405, 'METHOD_NOT_ALLOWED');
    expect((await browser.get('/auth/me')).status).toBe(200);
  });
});

describe('request bodies', () => {
  it.each(['{"username": "alice",', '{"username": "alice"} trailing', "{'username': 'alice'}", '\u00ff\u00fe'])(
    'answers malformed JSON %j with 400 MALFORMED_JSON',
    async (body) => {
      const response = await server.browser().post('/auth/login', { body, headers: { 'content-type': 'application/json' } });
      expectError(response, 400, 'MALFORMED_JSON');
    },
  );

  it('answers a body over the limit (declared by Content-Length) with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ username: 'alice', password: 'x'.repeat(BODY_LIMIT) });
    const response = await server.browser().post('/auth/login', { body, headers: { 'content-type': 'application/json' } });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a 100 MB Content-Length with 413 at once, before any of the body is read, and closes the connection', async () => {
    const response = await rawRequest(server.baseURL, {
      method: 'POST',
      path: '/auth/login',
      headers: { origin: APP_ORIGIN, 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) },
      body: '{"username": "alice", ',
    });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
    expect(response.headers.connection).toBe('close');
  });

  it('answers a chunked body that streams past the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await rawRequest(server.baseURL, {
      method: 'POST',
      path: '/auth/login',
      headers: { origin: APP_ORIGIN, 'content-type': 'application/json' },
      stream: { chunkBytes: 1024, totalBytes: 4 * 1024 * 1024 },
    });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a chunked body past an app route’s limit with 413 and adds nothing', async () => {
    const browser = await signedIn();
    const before = (await browser.get('/api/notes')).body.notes as string[];
    const response = await rawRequest(server.baseURL, {
      method: 'POST',
      path: '/api/notes',
      headers: { ...credentials(browser), 'content-type': 'application/json' },
      stream: { chunkBytes: 1024, totalBytes: 1024 * 1024 },
    });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
    expect((await browser.get('/api/notes')).body.notes).toEqual(before);
  });

  it('answers request headers over 16 KiB with 431 and a JSON body', async () => {
    const response = await rawRequest(server.baseURL, { method: 'GET', path: '/auth/me', headers: { 'x-padding': 'a'.repeat(17 * 1024) } });
    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.error.code).toBe('HEADERS_TOO_LARGE');
  });

  it.each([
    { what: '__proto__', body: `{"__proto__": {"admin": true}, "username": "alice", "password": "${ALICE.password}"}` },
    { what: 'constructor', body: `{"constructor": {"prototype": {"admin": true}}, "username": "alice", "password": "${ALICE.password}"}` },
  ])('refuses a $what key with 400 VALIDATION_FAILED and pollutes nothing', async ({ body }) => {
    const response = await server.browser().post('/auth/login', { body, headers: { 'content-type': 'application/json' } });
    expectError(response, 400, 'VALIDATION_FAILED');
    expect(response.setCookies).toEqual([]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
  });

  it.each([
    { what: 'nested 8000 arrays deep', body: `{"username": ${'['.repeat(8000)}${']'.repeat(8000)}, "password": "x"}` },
    { what: 'with a thousand unknown keys', body: JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]))) },
  ])('answers a body $what with 400, not a crash', async ({ body }) => {
    const response = await server.browser().post('/auth/login', { body, headers: { 'content-type': 'application/json' } });
    expectError(response, 400, 'VALIDATION_FAILED');
  });

  it('refuses unknown fields (mass assignment: roles) with 400 VALIDATION_FAILED', async () => {
    const response = await server.browser().login({ ...ALICE, roles: ['admin'] } as unknown as typeof ALICE);
    expectError(response, 400, 'VALIDATION_FAILED');
    expect(response.setCookies).toEqual([]);
  });

  it.each([
    { what: 'a number as username', json: { username: 123, password: ALICE.password } },
    { what: 'null as password', json: { username: 'alice', password: null } },
    { what: 'an array as password', json: { username: 'alice', password: [ALICE.password] } },
    { what: 'a missing password', json: { username: 'alice' } },
    { what: 'an array body', json: ['alice', ALICE.password] },
    { what: 'a string body', json: 'alice' },
    { what: 'a null body', json: null },
  ])('refuses $what with 400 VALIDATION_FAILED', async ({ json }) => {
    const response = await server.browser().post('/auth/login', { body: JSON.stringify(json), headers: { 'content-type': 'application/json' } });
    expectError(response, 400, 'VALIDATION_FAILED');
  });
});

describe('error bodies', () => {
  it('answers /auth/unknown with a JSON 404 NOT_FOUND', async () => {
    const response = await server.browser().get('/auth/unknown');
    expectError(response, 404, 'NOT_FOUND');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('never carry a stack line or a token value', async () => {
    const browser = await signedIn();
    const secrets = [browser.cookie(ACCESS)!, browser.jar.get(REFRESH)!.value, browser.cookie('XSRF-TOKEN')!];
    const json = { 'content-type': 'application/json' };
    const bad = browser.fork();
    bad.jar.set(ACCESS, { value: `${secrets[0]}x`, path: '/' });
    const responses = [
      await browser.get('/api/private', { headers: { authorization: `Bearer ${secrets[1]}` } }),
      await browser.post('/api/private', { headers: { 'x-xsrf-token': secrets[2]!.slice(1) } }),
      await bad.get('/api/private'),
      await browser.post('/auth/login', { body: `{"username": "${secrets[0]}", "password": 1}`, headers: json }),
      await browser.post('/auth/login', { body: `{"${secrets[1]}": 1}`, headers: json }),
      await browser.post('/auth/login', { body: `{${secrets[0]}`, headers: json }),
      await browser.post('/auth/sessions/revoke-all', { json: { password: secrets[1] } }),
      await browser.delete(`/auth/sessions/${secrets[2]}`),
      await browser.get(`/auth/${secrets[0]}`),
    ];
    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      const text = JSON.stringify(response.body);
      expect(text).not.toMatch(STACK_LINE);
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(1));
        expect(text).not.toContain(secret.slice(0, -1));
      }
    }
  });
});

describe('when the store fails', () => {
  let broken: TestServer;
  beforeAll(async () => {
    broken = await startTestServer();
  });
  afterAll(async () => {
    await broken.close();
  });

  it('answers with a generic 5xx, no stack and no internals, and sets no cookie', async () => {
    await broken.gatehouse.store.close();
    const response = await broken.browser().login(ALICE);
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.body).toEqual({ error: { code: expect.stringMatching(/^(STORE_UNAVAILABLE|INTERNAL_ERROR)$/), message: expect.any(String) } });
    expect(JSON.stringify(response.body)).not.toMatch(STACK_LINE);
    expect(JSON.stringify(response.body)).not.toMatch(/sqlite|closed|database/i);
    expect(response.setCookies).toEqual([]);
  });
});

describe('when an application route fails', () => {
  it.each([
    { what: 'throws synchronously', fallback: (): void => { throw new Error('boom at /srv/app.js:1:1'); } },
    { what: 'rejects', fallback: async (): Promise<void> => { throw new Error('boom at /srv/app.js:1:1'); } },
  ])('answers a generic JSON 500 when the fallback $what, and the server keeps serving', async ({ fallback }) => {
    const app = createNodeServer(server.gatehouse, { fallback });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const baseURL = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 2; i++) {
        const response = await rawRequest(baseURL, { method: 'GET', path: '/api/anything' });
        expect(response.status).toBe(500);
        expect(response.body.error.code).toBe('INTERNAL_ERROR');
        expect(response.text).not.toMatch(/boom|app\.js/);
      }
    } finally {
      await new Promise<void>((resolve) => {
        app.close(() => resolve());
        app.closeAllConnections();
      });
    }
  });
});
