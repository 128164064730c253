// Partner keys over real HTTP: CORS for registered origins only, Origin
// checked on every publishable-key request, secret keys refused from browser
// pages, scopes, the partner CSRF token and its cookie (never interchangeable
// with the session's), rate limits, and rotation. One server for the file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePartnerKey } from '../../src/partners/partner-key.js';
import { parseSetCookie, TestBrowser } from '../support/test-browser.js';
import { APP_ORIGIN, startPartnerServer, USER, type PartnerServer } from './support.js';

const SHOP = 'https://shop.acme.test';
const ELSEWHERE = 'https://evil.test';
const RATE_LIMIT = 25;

let server: PartnerServer;
let acme: { publishableKey: string; secretKey: string };
let orders: { publishableKey: string; secretKey: string };

interface Sent {
  readonly status: number;
  readonly headers: Headers;
  readonly code: string | undefined;
  readonly body: Record<string, unknown> | null;
}

async function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Sent> {
  const response = await fetch(server.baseURL + path, { method, headers, body });
  const text = await response.text();
  const json = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
  return { status: response.status, headers: response.headers, code: (json?.['error'] as { code?: string } | undefined)?.code, body: json };
}

/** A publishable-key request as a page on `origin` sends it (`null`: no Origin header). */
const fromPage = (key: string, origin: string | null, extra: Record<string, string> = {}) => ({ 'x-gatehouse-key': key, ...(origin === null ? {} : { origin }), ...extra });

beforeAll(async () => {
  server = await startPartnerServer({ partners: { rateLimit: { requests: RATE_LIMIT, windowSeconds: 60 } } });
  const admin = server.gatehouse.partners.admin;
  acme = await admin.add({ id: 'acme', origins: [SHOP, 'http://localhost:5173'], scopes: ['catalog:read'] });
  orders = await admin.add({ id: 'orders', origins: [SHOP], scopes: ['catalog:read', 'orders:write'] });
  await server.gatehouse.partners.registry?.sync();
});
afterAll(async () => {
  await server?.close();
});
// Each test starts in a fresh rate-limit window.
beforeEach(() => server.clock.advance(60_000));

describe('publishable keys', () => {
  it('from a registered origin: the partner, its key kind and scopes reach the handler; CORS names that origin, with credentials and Vary: Origin', async () => {
    const sent = await send('GET', '/api/catalog', fromPage(acme.publishableKey, SHOP));
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ partner: 'acme', keyKind: 'publishable', scopes: ['catalog:read'] });
    expect(sent.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(sent.headers.get('access-control-allow-credentials')).toBe('true');
    expect(sent.headers.get('vary')).toMatch(/Origin/);
    const local = await send('GET', '/api/catalog', fromPage(acme.publishableKey, 'http://localhost:5173'));
    expect([local.status, local.headers.get('access-control-allow-origin')]).toEqual([200, 'http://localhost:5173']);
  });

  it('from an unregistered origin: 403 PARTNER_ORIGIN_REJECTED and no CORS headers (the page cannot read it)', async () => {
    for (const origin of [ELSEWHERE, 'https://shop.acme.test.evil.test', 'http://shop.acme.test', 'https://shop.acme.test:8443', 'null']) {
      const sent = await send('GET', '/api/catalog', fromPage(acme.publishableKey, origin));
      expect([origin, sent.status, sent.code]).toEqual([origin, 403, 'PARTNER_ORIGIN_REJECTED']);
      expect(sent.headers.get('access-control-allow-origin')).toBeNull();
      expect(sent.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('with no Origin at all: 403 PARTNER_ORIGIN_REJECTED', async () => {
    const sent = await send('GET', '/api/catalog', fromPage(acme.publishableKey, null));
    expect([sent.status, sent.code]).toEqual([403, 'PARTNER_ORIGIN_REJECTED']);
  });

  it('from the origin of another partner: 403 PARTNER_ORIGIN_REJECTED (an origin belongs to the partner that registered it)', async () => {
    const other = await server.gatehouse.partners.admin.add({ id: 'beta', origins: ['https://beta.test'], scopes: ['catalog:read'] });
    await server.gatehouse.partners.registry?.sync();
    const sent = await send('GET', '/api/catalog', fromPage(other.publishableKey, SHOP));
    expect([sent.status, sent.code]).toEqual([403, 'PARTNER_ORIGIN_REJECTED']);
  });

  it('a CORS preflight is answered for a registered origin (methods, headers, credentials) and refused for any other', async () => {
    const preflight = (origin: string) =>
      send('OPTIONS', '/api/catalog', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-gatehouse-key,x-gatehouse-partner-csrf' });
    const ok = await preflight(SHOP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-gatehouse-partner-csrf');
    expect(ok.headers.get('vary')).toMatch(/Origin/);
    const refused = await preflight(ELSEWHERE);
    expect([refused.status, refused.code, refused.headers.get('access-control-allow-origin')]).toEqual([403, 'PARTNER_ORIGIN_REJECTED', null]);
  });

  it('never answers with a wildcard origin', async () => {
    const sent = await send('GET', '/api/catalog', fromPage(acme.publishableKey, SHOP));
    expect(sent.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('grants only its partner\'s scopes: a route needing orders:write refuses it (403 PARTNER_SCOPE_MISSING)', async () => {
    const sent = await send('GET', '/api/orders', fromPage(acme.publishableKey, SHOP));
    expect([sent.status, sent.code]).toEqual([403, 'PARTNER_SCOPE_MISSING']);
    const granted = await send('GET', '/api/orders', fromPage(orders.publishableKey, SHOP));
    expect(granted.status).toBe(200);
  });

  it('is no session: with a user\'s cookies sent along, a session route gives the partner\'s page nothing to read and nothing to change', async () => {
    const user = new TestBrowser(server.baseURL, APP_ORIGIN);
    expect((await user.login(USER)).status).toBe(200);
    const cookie = user.cookieHeader('/api/private');
    const read = await send('GET', '/api/private', { ...fromPage(acme.publishableKey, SHOP), cookie });
    expect(read.headers.get('access-control-allow-origin')).toBeNull(); // a browser hides the answer from the page
    const write = await send('POST', '/api/private', { ...fromPage(acme.publishableKey, SHOP), cookie, 'content-type': 'application/json' }, '{}');
    expect(write.status).toBe(403);
  });
});

describe('keys that are missing, malformed or unknown', () => {
  it('no key: 401 PARTNER_KEY_MISSING; a malformed or unknown key: 401 PARTNER_KEY_INVALID', async () => {
    expect((await send('GET', '/api/catalog', { origin: SHOP })).code).toBe('PARTNER_KEY_MISSING');
    for (const key of ['ghpk_nope', `ghpk_${'0'.repeat(24)}_${'A'.repeat(43)}`, `${acme.publishableKey}x`]) {
      const sent = await send('GET', '/api/catalog', fromPage(key, SHOP));
      expect([sent.status, sent.code]).toEqual([401, 'PARTNER_KEY_INVALID']);
    }
  });
});

describe('secret keys', () => {
  it('from a server (no Origin, no Sec-Fetch-Site; Node\'s fetch adds Sec-Fetch-Mode: cors by itself): accepted, and never answered with CORS headers', async () => {
    const sent = await send('GET', '/api/catalog', { 'x-gatehouse-key': acme.secretKey });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ partner: 'acme', keyKind: 'secret', scopes: ['catalog:read'] });
    expect(sent.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never rely on Origin: a secret key from a server may change state without a CSRF token', async () => {
    const sent = await send('POST', '/api/orders', { 'x-gatehouse-key': orders.secretKey, 'content-type': 'application/json' }, '{}');
    expect(sent.status).toBe(200);
  });

  it('sent by a browser page (Origin, or Sec-Fetch-Site): 403 PARTNER_SECRET_KEY_IN_BROWSER, even from a registered origin, even for a wrong key', async () => {
    const attempts: Record<string, string>[] = [
      { origin: SHOP },
      { origin: ELSEWHERE },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-origin' },
    ];
    for (const browserHeaders of attempts) {
      const sent = await send('GET', '/api/catalog', { 'x-gatehouse-key': acme.secretKey, ...browserHeaders });
      expect([sent.status, sent.code]).toEqual([403, 'PARTNER_SECRET_KEY_IN_BROWSER']);
    }
    const wrong = await send('GET', '/api/catalog', { 'x-gatehouse-key': `ghsk_${'0'.repeat(24)}_${'A'.repeat(43)}`, origin: SHOP });
    expect(wrong.code).toBe('PARTNER_SECRET_KEY_IN_BROWSER');
    // From a registered origin the page can read why, so the partner notices the leak.
    const readable = await send('GET', '/api/catalog', { 'x-gatehouse-key': acme.secretKey, origin: SHOP });
    expect(readable.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  it('a publishable key is not a secret key: it cannot skip the Origin check by leaving Origin out', async () => {
    const sent = await send('POST', '/api/orders', { 'x-gatehouse-key': orders.publishableKey, 'content-type': 'application/json' }, '{}');
    expect([sent.status, sent.code]).toEqual([403, 'PARTNER_ORIGIN_REJECTED']);
  });
});

describe('partner CSRF (signed double-submit bound to the key and an HttpOnly cookie)', () => {
  /** The token and cookie a partner page gets from GET /auth/partner/csrf. */
  async function partnerCSRF(key: string, cookie?: string): Promise<{ token: string; cookie: string; setCookie: string | undefined; sent: Sent }> {
    const sent = await send('GET', '/auth/partner/csrf', fromPage(key, SHOP, cookie === undefined ? {} : { cookie }));
    const setCookie = sent.headers.getSetCookie()[0];
    const value = setCookie === undefined ? cookie ?? '' : `${parseSetCookie(setCookie).name}=${parseSetCookie(setCookie).value}`;
    return { token: String(sent.body?.['csrfToken']), cookie: value, setCookie, sent };
  }
  const post = (key: string, extra: Record<string, string>) =>
    send('POST', '/api/orders', fromPage(key, SHOP, { 'content-type': 'application/json', ...extra }), '{"item":1}');

  it('GET /auth/partner/csrf answers a token, sets an HttpOnly, Secure, SameSite=None, Partitioned cookie, with CORS for the origin', async () => {
    const { sent, setCookie, token } = await partnerCSRF(orders.publishableKey);
    expect(sent.status).toBe(200);
    expect(sent.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(sent.headers.get('access-control-allow-credentials')).toBe('true');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const cookie = parseSetCookie(setCookie ?? '');
    expect(cookie.name).toBe('__Host-gh_partner_csrf');
    expect([...cookie.attributes.keys()].sort()).toEqual(['httponly', 'max-age', 'partitioned', 'path', 'samesite', 'secure']);
    expect(cookie.attributes.get('samesite')).toBe('None');
    expect(cookie.attributes.get('path')).toBe('/');
  });

  it('is refused there from an unregistered origin, and for a secret key', async () => {
    const sent = await send('GET', '/auth/partner/csrf', fromPage(orders.publishableKey, ELSEWHERE));
    expect([sent.status, sent.code, sent.headers.getSetCookie()]).toEqual([403, 'PARTNER_ORIGIN_REJECTED', []]);
    const secret = await send('GET', '/auth/partner/csrf', { 'x-gatehouse-key': orders.secretKey });
    expect(secret.status).toBe(403);
  });

  it('an unsafe request needs the token and its cookie: without either, or with another cookie, 403 PARTNER_CSRF_REJECTED', async () => {
    const { token, cookie } = await partnerCSRF(orders.publishableKey);
    expect((await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': token, cookie })).status).toBe(200);
    expect((await post(orders.publishableKey, {})).code).toBe('PARTNER_CSRF_REJECTED');
    expect((await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': token })).code).toBe('PARTNER_CSRF_REJECTED');
    expect((await post(orders.publishableKey, { cookie })).code).toBe('PARTNER_CSRF_REJECTED');
    const other = await partnerCSRF(orders.publishableKey);
    expect((await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': token, cookie: other.cookie })).code).toBe('PARTNER_CSRF_REJECTED');
    // Asking again with the cookie keeps it and binds a fresh token to it.
    const again = await partnerCSRF(orders.publishableKey, cookie);
    expect(again.setCookie).toBeUndefined();
    expect((await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': again.token, cookie })).status).toBe(200);
  });

  it('a token is bound to its key: one minted for another key of the same origin is refused', async () => {
    const { token, cookie } = await partnerCSRF(acme.publishableKey);
    const sent = await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': token, cookie });
    expect(sent.code).toBe('PARTNER_CSRF_REJECTED');
  });

  it('a session CSRF token does not pass as a partner CSRF token', async () => {
    const user = new TestBrowser(server.baseURL, APP_ORIGIN);
    await user.login(USER);
    const sessionToken = user.cookie('XSRF-TOKEN') ?? user.cookie('__Host-XSRF-TOKEN');
    expect(sessionToken).toMatch(/\./);
    const { cookie } = await partnerCSRF(orders.publishableKey);
    const sent = await post(orders.publishableKey, { 'x-gatehouse-partner-csrf': sessionToken ?? '', cookie });
    expect(sent.code).toBe('PARTNER_CSRF_REJECTED');
  });

  it('a partner CSRF token does not pass as a session CSRF token', async () => {
    const user = new TestBrowser(server.baseURL, APP_ORIGIN);
    await user.login(USER);
    expect((await user.post('/api/private', { json: {} })).status).toBe(200); // the control: the session's own token works
    const { token } = await partnerCSRF(orders.publishableKey);
    const name = user.jar.has('XSRF-TOKEN') ? 'XSRF-TOKEN' : '__Host-XSRF-TOKEN';
    user.jar.set(name, { value: token, path: '/' });
    const sent = await user.post('/api/private', { json: {}, headers: { 'x-xsrf-token': token } });
    expect([sent.status, sent.body?.error?.code]).toEqual([403, 'CSRF_REJECTED']);
  });
});

describe('rate limit per key', () => {
  it(`after ${RATE_LIMIT} requests in a window: 429 PARTNER_RATE_LIMITED with Retry-After, readable by the page; other keys unaffected; the next window is open again`, async () => {
    const limited = await server.gatehouse.partners.admin.add({ id: 'busy', origins: [SHOP], scopes: ['catalog:read'] });
    await server.gatehouse.partners.registry?.sync();
    for (let i = 0; i < RATE_LIMIT; i++) expect((await send('GET', '/api/catalog', fromPage(limited.publishableKey, SHOP))).status).toBe(200);
    const over = await send('GET', '/api/catalog', fromPage(limited.publishableKey, SHOP));
    expect([over.status, over.code]).toEqual([429, 'PARTNER_RATE_LIMITED']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(over.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(over.headers.get('access-control-expose-headers')).toMatch(/Retry-After/i);
    // The secret key of the same partner is a key of its own.
    expect((await send('GET', '/api/catalog', { 'x-gatehouse-key': limited.secretKey })).status).toBe(200);
    expect((await send('GET', '/api/catalog', fromPage(acme.publishableKey, SHOP))).status).toBe(200);
    server.clock.advance(60_000);
    expect((await send('GET', '/api/catalog', fromPage(limited.publishableKey, SHOP))).status).toBe(200);
  });
});

describe('rotation and revocation', () => {
  it('a rotated key keeps working during the overlap and is refused after it; the new key works at once', async () => {
    const partner = await server.gatehouse.partners.admin.add({ id: 'rotating', origins: [SHOP], scopes: ['catalog:read'] });
    const rotated = await server.gatehouse.partners.admin.rotate('rotating', 'publishable', 3600);
    await server.gatehouse.partners.registry?.sync();
    expect((await send('GET', '/api/catalog', fromPage(partner.publishableKey, SHOP))).status).toBe(200);
    expect((await send('GET', '/api/catalog', fromPage(rotated.key, SHOP))).status).toBe(200);
    server.clock.advance(3600_000);
    const old = await send('GET', '/api/catalog', fromPage(partner.publishableKey, SHOP));
    expect([old.status, old.code]).toEqual([401, 'PARTNER_KEY_INVALID']);
    expect((await send('GET', '/api/catalog', fromPage(rotated.key, SHOP))).status).toBe(200);
  });

  it('a revoked key is refused on the next request', async () => {
    const partner = await server.gatehouse.partners.admin.add({ id: 'revoked', origins: [SHOP], scopes: ['catalog:read'] });
    await server.gatehouse.partners.registry?.sync();
    expect((await send('GET', '/api/catalog', { 'x-gatehouse-key': partner.secretKey })).status).toBe(200);
    await server.gatehouse.partners.admin.revoke(parsePartnerKey(partner.secretKey)?.id ?? '');
    const sent = await send('GET', '/api/catalog', { 'x-gatehouse-key': partner.secretKey });
    expect([sent.status, sent.code]).toEqual([401, 'PARTNER_KEY_INVALID']);
  });
});
