// cookies.accessToken: "split" — the access token as two cookies: the header
// and payload where JavaScript can read them, the signature where it cannot.
// Over real HTTP: what is set, what the guard accepts, and that the readable
// half, read, rewritten or alone, gains a script nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';

const CLAIMS = '__Host-gh_claims';
const ACCESS = '__Host-gh_access';

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const cookieNamed = (response: TestResponse, name: string) => response.setCookies.find((c) => c.name === name);

describe('split access cookies', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeEach(async () => {
    server = await startTestServer({ cookies: { accessToken: 'split' } });
    browser = server.browser();
  });

  afterEach(async () => {
    await server.close();
  });

  it('sign-in sets a readable claims cookie (header and payload) and an HttpOnly access cookie holding only the signature', async () => {
    const login = await browser.login(ALICE);
    expect(login.status).toBe(200);
    const claims = cookieNamed(login, CLAIMS);
    const access = cookieNamed(login, ACCESS);
    expect(claims?.attributes.has('httponly')).toBe(false);
    expect(access?.attributes.has('httponly')).toBe(true);
    for (const cookie of [claims, access]) {
      expect(cookie?.attributes.has('secure')).toBe(true);
      expect(cookie?.attributes.get('path')).toBe('/');
      expect(cookie?.attributes.get('samesite')).toBe('Lax');
      expect(cookie?.attributes.get('max-age')).toBe(access?.attributes.get('max-age'));
    }
    const [header, payload, extra] = claims!.value.split('.');
    expect(extra).toBeUndefined();
    expect(access!.value).toMatch(/^[A-Za-z0-9_-]+$/); // a signature: no dots, no header, no payload
    expect(decodePart(header!)).toMatchObject({ typ: 'at+jwt' });
    expect(decodePart(payload!)).toMatchObject({ preferred_username: 'alice', roles: ['user'], sid: login.body.session.id });
    expect(decodePart(payload!)['exp']).toBe(Date.parse(login.body.session.accessTokenExpiresAt) / 1000);

    // Joined, they are the session's access token: the guard and /auth/me accept the pair.
    expect((await browser.get('/api/private')).status).toBe(200);
    expect((await browser.get('/auth/me')).body.user.username).toBe('alice');
    expect((await browser.post('/api/private')).status).toBe(200);
  });

  it('refuses the readable cookie alone', async () => {
    await browser.login(ALICE);
    browser.jar.delete(ACCESS);
    const response = await browser.get('/api/private');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
    expect((await browser.get('/auth/me')).status).toBe(401);
  });

  it('refuses the signature alone', async () => {
    await browser.login(ALICE);
    browser.jar.delete(CLAIMS);
    const response = await browser.get('/api/private');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('TOKEN_INVALID');
  });

  it('refuses a rewritten payload (roles: admin) with the real signature, even after the real token was accepted', async () => {
    await browser.login(ALICE);
    expect((await browser.get('/api/private')).status).toBe(200); // the real token is now in the verified-token cache
    const [header, payload] = browser.cookie(CLAIMS)!.split('.');
    const forged = { ...decodePart(payload!), roles: ['user', 'admin'] };
    browser.jar.set(CLAIMS, { value: `${header}.${encodePart(forged)}`, path: '/' });
    for (const path of ['/api/admin', '/api/private', '/auth/me']) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(401);
      expect(response.body.error.code, path).toBe('TOKEN_INVALID');
    }
    // A later expiry does no better.
    browser.jar.set(CLAIMS, { value: `${header}.${encodePart({ ...decodePart(payload!), exp: 4_102_444_800 })}`, path: '/' });
    expect((await browser.get('/api/private')).body.error.code).toBe('TOKEN_INVALID');
  });

  it('refuses another session’s claims joined to this session’s signature', async () => {
    await browser.login(ALICE);
    const other = server.browser();
    await other.login(ALICE);
    browser.jar.set(CLAIMS, { value: other.cookie(CLAIMS)!, path: '/' });
    expect((await browser.get('/api/private')).body.error.code).toBe('TOKEN_INVALID');
  });

  it('refresh sets both halves again, and logout clears both', async () => {
    await browser.login(ALICE);
    const before = browser.cookie(CLAIMS);
    server.clock.advance(310_000);
    expect((await browser.get('/api/private')).body.error.code).toBe('TOKEN_EXPIRED');
    const refreshed = await browser.post('/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(cookieNamed(refreshed, CLAIMS)?.value).not.toBe(before);
    expect(cookieNamed(refreshed, ACCESS)?.value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await browser.get('/api/private')).status).toBe(200);

    const logout = await browser.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(cookieNamed(logout, CLAIMS)?.attributes.get('max-age')).toBe('0');
    expect(cookieNamed(logout, ACCESS)?.attributes.get('max-age')).toBe('0');
    expect(browser.cookie(CLAIMS)).toBeUndefined();
  });

  it('Bearer clients are unaffected: the joined token works as a Bearer token', async () => {
    await browser.login(ALICE);
    const token = `${browser.cookie(CLAIMS)}.${browser.cookie(ACCESS)}`;
    const response = await browser.get('/api/private', { noCookies: true, headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.body.auth.via).toBe('bearer');
  });
});

describe('switching cookies.accessToken signs nobody out', () => {
  it('where cookies are whole, a split pair (cookies set before the switch) is still accepted', async () => {
    const server = await startTestServer();
    try {
      const browser = server.browser();
      await browser.login(ALICE);
      expect(browser.cookie(CLAIMS)).toBeUndefined();
      const [header, payload, signature] = browser.cookie(ACCESS)!.split('.');
      const before = server.browser();
      before.jar.set(CLAIMS, { value: `${header}.${payload}`, path: '/' });
      before.jar.set(ACCESS, { value: signature!, path: '/' });
      expect((await before.get('/api/private')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('where cookies are split, a whole token in the access cookie is still accepted, whatever claims cookie lies next to it', async () => {
    const server = await startTestServer({ cookies: { accessToken: 'split' } });
    try {
      const browser = server.browser();
      await browser.login(ALICE);
      const token = `${browser.cookie(CLAIMS)}.${browser.cookie(ACCESS)}`;
      const before = server.browser();
      before.jar.set(ACCESS, { value: token, path: '/' });
      expect((await before.get('/api/private')).status).toBe(200);
      before.jar.set(CLAIMS, { value: 'stale.claims', path: '/' });
      expect((await before.get('/api/private')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
