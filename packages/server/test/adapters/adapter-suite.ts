import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, rawRequest } from '../support/raw-http.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';
import { ALICE, APP_ORIGIN } from '../support/test-server.js';
import { startAdapterServer, type AdapterName, type AdapterServer, type AppOptions } from './adapter-apps.js';

const EVIL_ORIGIN = 'https://evil.example';
const ACCESS = '__Host-gh_access';
const REFRESH = '__Host-gh_refresh';
const XSRF = 'XSRF-TOKEN';

/** What every Gatehouse answer carries, whichever framework sent it. */
function expectGatehouseHeaders(response: { headers: Headers }): void {
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
  expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(response.headers.get('x-powered-by')).toBeNull();
}

function expectError(response: TestResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expectGatehouseHeaders(response);
}

/** The cookies a response sets, as `name: attributes` (values left out: they differ every time). */
function cookieShapes(response: TestResponse): Record<string, string> {
  return Object.fromEntries(
    response.setCookies.map((c) => [c.name, [...c.attributes].map(([k, v]) => (v === '' ? k : `${k}=${k === 'max-age' ? (Number(v) > 0 ? '+' : v) : v}`)).join('; ')]),
  );
}

/**
 * The behaviour every adapter must share, written once: the same requests,
 * the same status codes, headers, cookies and error bodies over real HTTP.
 * Each `<adapter>.test.ts` runs it with its adapter's name.
 */
export function describeAdapter(adapter: AdapterName, options: AppOptions = {}): void {
  describe(`Gatehouse on ${adapter}, ${options.signingAlgorithm ?? 'HS256'}`, () => {
    let server: AdapterServer;
    beforeAll(async () => {
      server = await startAdapterServer(adapter, options);
      // The suite must run on the algorithm it names.
      const token = (await server.browser().login(ALICE)).setCookies.find((c) => c.name === ACCESS)?.value ?? '';
      expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).alg).toBe(options.signingAlgorithm ?? 'HS256');
    });
    afterAll(async () => {
      await server?.close();
    });

    async function signedIn(): Promise<TestBrowser> {
      const browser = server.browser();
      expect((await browser.login(ALICE)).status).toBe(200);
      return browser;
    }

    describe('the /auth endpoints', () => {
      it('signs in with the same cookies, flags and headers', async () => {
        const response = await server.browser().login(ALICE);
        expect(response.status).toBe(200);
        expect(response.body.user).toMatchObject({ username: 'alice', roles: ['user'] });
        expectGatehouseHeaders(response);
        expect(cookieShapes(response)).toEqual({
          [ACCESS]: 'path=/; max-age=+; httponly; secure; samesite=Lax',
          [REFRESH]: 'path=/; max-age=+; httponly; secure; samesite=Strict',
          [XSRF]: 'path=/; max-age=+; secure; samesite=Strict',
        });
      });

      it('answers GET /auth/me with the user, and 401 UNAUTHENTICATED without cookies', async () => {
        const alice = await signedIn();
        const me = await alice.get('/auth/me?fresh=1');
        expect(me.status).toBe(200);
        expect(me.body.user.username).toBe('alice');
        expectError(await server.browser().get('/auth/me'), 401, 'UNAUTHENTICATED');
      });

      it('reads bodies itself: a form post is 415, malformed JSON 400, an oversized body 413', async () => {
        const browser = server.browser();
        expectError(await browser.post('/auth/login', { body: 'username=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        expectError(await browser.post('/auth/login', { body: '{"username":', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
        expectError(await browser.post('/auth/login', { json: { username: 'alice', password: 'x'.repeat(20_000) } }), 413, 'PAYLOAD_TOO_LARGE');
      });

      it('refuses a cross-site login (login CSRF) with 403 ORIGIN_REJECTED', async () => {
        expectError(await server.browser({ origin: EVIL_ORIGIN }).login(ALICE), 403, 'ORIGIN_REJECTED');
      });

      it('answers unknown paths with 404 NOT_FOUND and wrong methods with 405 and Allow', async () => {
        expectError(await server.browser().get('/auth/nope'), 404, 'NOT_FOUND');
        const wrongMethod = await server.browser().delete('/auth/login');
        expectError(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
        expect(wrongMethod.headers.get('allow')).toBe('POST');
      });

      it('refuses TRACE with 405 naming the route\'s methods in Allow (no cross-site tracing), and 404 on no route', async () => {
        for (const [path, allow] of [['/auth/me', 'GET, HEAD'], ['/auth/login', 'POST'], ['/auth/sessions/abcdefghijklmnop', 'DELETE']] as const) {
          const response = await rawRequest(server.baseURL, { method: 'TRACE', path });
          expect([path, response.status, response.body.error.code, response.headers.allow]).toEqual([path, 405, 'METHOD_NOT_ALLOWED', allow]);
        }
        expect((await rawRequest(server.baseURL, { method: 'TRACE', path: '/auth/nope' })).status).toBe(404);
      });

      it('closes the connection after a 413 whose body it did not read, so the rest is never taken for a request', async () => {
        // The body is shorter than its Content-Length: the second request's bytes would be read as the first one's body.
        const oversized = `POST /auth/login HTTP/1.1\r\nHost: x\r\nOrigin: ${APP_ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n{"username":`;
        const exchange = await rawExchange(server.baseURL, `${oversized}GET /auth/me HTTP/1.1\r\nHost: x\r\n\r\n`);
        const [head] = exchange.text.split('\r\n\r\n');
        expect(head).toMatch(/^HTTP\/1\.1 413 /);
        expect(head).toMatch(/\r\nconnection: close\r\n/i);
        expect(exchange.closedByServer).toBe(true);
        expect(exchange.text.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
      });

      it('leaves paths that only start with "auth", and everything else, to the application', async () => {
        for (const path of ['/authority', '/api/public']) {
          const response = await server.browser().get(path);
          expect({ path, status: response.status, body: response.body }).toEqual({ path, status: 200, body: { public: true } });
        }
      });
    });

    describe('paths are exact', () => {
      // Each could be read as /auth/me or a guarded /api route by something that normalises paths.
      const SPELLINGS = [
        '/auth/./me',
        '/auth/%2e/me',
        '/auth/%2E/me',
        '/auth/sessions/%2e%2e/me',
        '/auth/sessions/../me',
        '/auth/x/.%2e/me',
        '/auth/me/.',
        '/auth//me',
        '/auth/%252e/me',
        '/auth/sessions%2f..%2fme',
        '/auth/sessions%5c..%5cme',
        '/api/../auth/me',
        '/api/./private',
        '/api/x/../private',
        '/api/%2e%2e/api/private',
        '/api/private/.',
        '/api/admin/../private',
        '/api/guest/%2e%2e/private',
      ];
      let cookie: string;
      beforeAll(async () => {
        cookie = (await signedIn()).cookieHeader('/');
      });

      it.each(SPELLINGS)('%s: 404 (or 400), never the route it normalises to', async (path) => {
        const response = await rawRequest(server.baseURL, { method: 'GET', path, headers: { cookie, origin: APP_ORIGIN } });
        expect([400, 404], `${response.status} ${response.text}`).toContain(response.status);
        expect(response.text).not.toContain('alice');
      });

      it('the exact spellings still answer', async () => {
        for (const path of ['/auth/me', '/auth/me?x=/./', '/api/private']) {
          expect((await rawRequest(server.baseURL, { method: 'GET', path, headers: { cookie } })).status, path).toBe(200);
        }
      });
    });

    describe('guarded routes', () => {
      it('hand the verified user to the handler in the framework’s idiom', async () => {
        const response = await (await signedIn()).get('/api/private');
        expect(response.status).toBe(200);
        expect(response.body.auth).toMatchObject({ via: 'cookie', user: { username: 'alice', roles: ['user'] }, client: null, scopes: [] });
        expect(Object.keys(response.body.auth).sort()).toEqual(['client', 'expiresAt', 'scopes', 'sessionId', 'tokenId', 'user', 'userVersion', 'via']);
      });

      it('answer 401 UNAUTHENTICATED without credentials', async () => {
        expectError(await server.browser().get('/api/private'), 401, 'UNAUTHENTICATED');
      });

      it('accept a Bearer token and refuse other Authorization schemes and forged tokens', async () => {
        const alice = await signedIn();
        const token = alice.cookie(ACCESS)!;
        const bearer = await server.browser().get('/api/private', { headers: { authorization: `Bearer ${token}` } });
        expect(bearer.status).toBe(200);
        expect(bearer.body.auth.via).toBe('bearer');
        expectError(await server.browser().get('/api/private', { headers: { authorization: 'Basic YWxpY2U6eA==' } }), 401, 'INVALID_AUTHORIZATION');
        // Change one character inside the signature: every such character carries six full bits, so the
        // signature really differs (rewriting the last characters can, about once in 256 runs, decode to the same bytes).
        const at = token.lastIndexOf('.') + 10;
        const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
        expectError(await server.browser().get('/api/private', { headers: { authorization: `Bearer ${forged}` } }), 401, 'TOKEN_INVALID');
      });

      it('check CSRF on unsafe methods: the XSRF header passes, no header or a foreign origin is 403', async () => {
        const alice = await signedIn();
        expect((await alice.post('/api/private')).status).toBe(200);
        expectError(await alice.post('/api/private', { xsrf: false }), 403, 'CSRF_REJECTED');
        expectError(await alice.fork({ origin: EVIL_ORIGIN }).post('/api/private'), 403, 'CSRF_REJECTED');
      });

      it('check CSRF before the application sees the body', async () => {
        const alice = await signedIn();
        expectError(await alice.post('/api/private', { json: { forged: true }, xsrf: false }), 403, 'CSRF_REJECTED');
      });

      it('require the listed roles: 403 FORBIDDEN without them', async () => {
        expectError(await (await signedIn()).get('/api/admin'), 403, 'FORBIDDEN');
      });

      it('let anonymous visitors through where allowed, with an anonymous CSRF token for unsafe methods', async () => {
        const guest = server.browser();
        const read = await guest.get('/api/guest');
        expect({ status: read.status, body: read.body }).toEqual({ status: 200, body: { auth: null } });
        expectError(await guest.post('/api/guest'), 403, 'CSRF_REJECTED');
        expect((await guest.get('/auth/csrf')).status).toBe(200);
        const write = await guest.post('/api/guest');
        expect({ status: write.status, body: write.body }).toEqual({ status: 200, body: { auth: null } });
      });

      it('skip CSRF only on the route that lists it, still requiring a session', async () => {
        const alice = await signedIn();
        expect((await alice.post('/api/webhook', { xsrf: false })).status).toBe(200);
        expectError(await server.browser().post('/api/webhook'), 401, 'UNAUTHENTICATED');
      });

      it('refuse a signed-out session with 401 SESSION_REVOKED and clear its cookies', async () => {
        const alice = await signedIn();
        const stolen = alice.fork();
        expect((await alice.post('/auth/logout')).status).toBe(204);
        const response = await stolen.get('/api/private');
        expectError(response, 401, 'SESSION_REVOKED');
        expect(cookieShapes(response)).toEqual({
          [ACCESS]: 'path=/; max-age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; secure; samesite=Lax',
          [REFRESH]: 'path=/; max-age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; secure; samesite=Strict',
          [XSRF]: 'path=/; max-age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT; secure; samesite=Strict',
        });
      });

      it('answer 401 TOKEN_EXPIRED once the access token has expired, or refresh inline where enabled', async () => {
        const alice = await signedIn();
        const oldAccess = alice.cookie(ACCESS);
        server.clock.advance((server.gatehouse.config.accessToken.ttlSeconds + server.gatehouse.config.accessToken.clockToleranceSeconds + 1) * 1000);
        expectError(await alice.get('/api/private'), 401, 'TOKEN_EXPIRED');
        const refreshed = await alice.get('/api/transparent');
        expect(refreshed.status).toBe(200);
        expect(Object.keys(cookieShapes(refreshed)).sort()).toEqual([ACCESS, REFRESH].sort());
        expect(alice.cookie(ACCESS)).not.toBe(oldAccess);
        expect((await alice.get('/api/private')).status).toBe(200);
      });
    });
  });
}
