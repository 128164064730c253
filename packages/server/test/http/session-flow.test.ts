import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';

describe('a browser session: login, me, refresh, logout', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('signs in and answers /auth/me with the same user object', async () => {
    const browser = server.browser();
    const login = await browser.login(ALICE);
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ username: 'alice', roles: ['user'] });
    const me = await browser.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(login.body.user);
    expect(me.body.session.id).toEqual(login.body.session.id);
    expect(Date.parse(me.body.session.expiresAt)).toBeGreaterThan(server.clock.now());
  });

  it('sets HttpOnly, Secure, prefixed cookies with the documented paths and SameSite', async () => {
    const login = await server.browser().login(ALICE);
    const byName = new Map(login.setCookies.map((c) => [c.name, c]));
    const access = byName.get('__Host-gh_access');
    const refresh = byName.get('__Secure-gh_refresh');
    const csrf = byName.get('XSRF-TOKEN');
    expect(access?.attributes.has('httponly')).toBe(true);
    expect(access?.attributes.has('secure')).toBe(true);
    expect(access?.attributes.get('path')).toBe('/');
    expect(access?.attributes.get('samesite')).toBe('Lax');
    expect(access?.attributes.has('domain')).toBe(false);
    expect(refresh?.attributes.has('httponly')).toBe(true);
    expect(refresh?.attributes.get('path')).toBe('/auth');
    expect(refresh?.attributes.get('samesite')).toBe('Strict');
    expect(csrf?.attributes.has('httponly')).toBe(false);
    expect(csrf?.attributes.get('samesite')).toBe('Strict');
    for (const cookie of login.setCookies) expect(`${cookie.name}=${cookie.value}`.length).toBeLessThan(4096);
  });

  it('marks every /auth response no-store and never sends tokens in the body', async () => {
    const browser = server.browser();
    const login = await browser.login(ALICE);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(JSON.stringify(login.body)).not.toContain(browser.cookie('__Host-gh_access'));
    expect((await browser.get('/auth/me')).headers.get('cache-control')).toBe('no-store');
    expect((await browser.get('/auth/nope')).headers.get('cache-control')).toBe('no-store');
  });

  it('refreshes: new access and refresh cookies, the same session, the user stays signed in', async () => {
    const browser = server.browser();
    const login = await browser.login(ALICE);
    const firstAccess = browser.cookie('__Host-gh_access');
    const firstRefresh = browser.cookie('__Secure-gh_refresh');
    server.clock.advance(6 * 60_000);
    expect((await browser.get('/auth/me')).body.error.code).toBe('TOKEN_EXPIRED');
    const refreshed = await browser.post('/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.session.id).toBe(login.body.session.id);
    expect(browser.cookie('__Host-gh_access')).not.toBe(firstAccess);
    expect(browser.cookie('__Secure-gh_refresh')).not.toBe(firstRefresh);
    expect((await browser.get('/auth/me')).status).toBe(200);
  });

  it('logs out: 204, every auth cookie expired, Clear-Site-Data, and the session is over', async () => {
    const browser = server.browser();
    await browser.login(ALICE);
    const stolen = browser.fork();
    const stolenAgain = browser.fork();
    const logout = await browser.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers.get('clear-site-data')).toBe('"cookies"');
    const expired = logout.setCookies.filter((c) => c.attributes.get('max-age') === '0').map((c) => c.name);
    expect(expired.sort()).toEqual(['XSRF-TOKEN', '__Host-gh_access', '__Secure-gh_refresh']);
    expect((await browser.get('/auth/me')).status).toBe(401);
    // Copies of the cookies taken before logout are dead too, access token included.
    expect((await stolen.get('/auth/me')).body.error.code).toBe('SESSION_REVOKED');
    // (That answer cleared the copy's cookies; a second copy still holds the refresh token.)
    expect((await stolenAgain.post('/auth/refresh')).body.error.code).toBe('REFRESH_TOKEN_REVOKED');
  });

  it('answers /auth/me without credentials with 401 UNAUTHENTICATED', async () => {
    const me = await server.browser().get('/auth/me');
    expect(me.status).toBe(401);
    expect(me.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
  });

  it('lists this user’s sessions, marks the current one, and revokes another device', async () => {
    const laptop = server.browser();
    const phone = server.browser();
    await laptop.login(ALICE);
    const phoneLogin = await phone.login(ALICE);
    const list = await laptop.get('/auth/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(2);
    expect(list.body.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const revoke = await laptop.delete(`/auth/sessions/${phoneLogin.body.session.id}`);
    expect(revoke.status).toBe(204);
    expect((await phone.get('/auth/me')).body.error.code).toBe('SESSION_REVOKED');
    expect((await laptop.get('/auth/me')).status).toBe(200);
  });

  it('answers 404 for another user’s session exactly as for an unknown id', async () => {
    const alice = server.browser();
    const bob = server.browser();
    await alice.login(ALICE);
    const bobLogin = await bob.login({ username: 'bob', password: 'another long passphrase' });
    const foreign = await alice.delete(`/auth/sessions/${bobLogin.body.session.id}`);
    const unknown = await alice.delete('/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA');
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    expect((await bob.get('/auth/me')).status).toBe(200);
  });

  it('revoke-all asks for the password again and then ends every session, this one included', async () => {
    const laptop = server.browser();
    const phone = server.browser();
    await laptop.login(ALICE);
    await phone.login(ALICE);
    const wrong = await laptop.post('/auth/sessions/revoke-all', { json: { password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
    expect((await phone.get('/auth/me')).status).toBe(200);
    const ok = await laptop.post('/auth/sessions/revoke-all', { json: { password: ALICE.password } });
    expect(ok.status).toBe(204);
    expect((await phone.get('/auth/me')).body.error.code).toBe('SESSION_REVOKED');
    expect((await laptop.get('/auth/me')).status).toBe(401);
  });
});
