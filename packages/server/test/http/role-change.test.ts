/**
 * A change to a user's roles over real HTTP, with the clock standing still:
 * whether a token predates the change is decided by the user version it
 * carries, never by comparing times, so nothing can tie.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
  await server.gatehouse.auth.changeRoles(ALICE.username, { add: ['admin'] });
});
afterEach(async () => {
  await server.close();
});

describe('a role change takes effect on the next request, even in the same millisecond as the sign-in', () => {
  it('a removed role: the token that still says admin is refused on guarded routes and /auth/me; a refresh brings the new roles', async () => {
    const browser = server.browser();
    expect((await browser.login(ALICE)).status).toBe(200);
    expect((await browser.get('/api/admin')).status).toBe(200);
    expect((await browser.get('/auth/me')).body.user.roles).toEqual(['user', 'admin']);
    const bearer = browser.cookie('__Host-gh_access') ?? '';

    // The clock does not move: the change happens in the very millisecond the token was issued.
    await server.gatehouse.auth.changeRoles(ALICE.username, { remove: ['admin'] });

    for (const response of [await browser.get('/api/admin'), await browser.get('/auth/me'), await browser.get('/api/private')]) {
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('TOKEN_EXPIRED');
    }
    const asBearer = await server.browser({ origin: null }).get('/api/admin', { headers: { authorization: `Bearer ${bearer}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.error.code).toBe('TOKEN_EXPIRED');

    const refreshed = await browser.post('/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user.roles).toEqual(['user']);
    expect((await browser.get('/auth/me')).body.user.roles).toEqual(['user']);
    const admin = await browser.get('/api/admin');
    expect(admin.status).toBe(403);
    expect(admin.body.error.code).toBe('FORBIDDEN');
  });

  it('a token issued in the same millisecond right after the change carries the new roles and is accepted', async () => {
    await server.gatehouse.auth.changeRoles(ALICE.username, { remove: ['admin'] });
    const browser = server.browser();
    expect((await browser.login(ALICE)).body.user.roles).toEqual(['user']);
    expect((await browser.get('/api/private')).status).toBe(200);
    expect((await browser.get('/auth/me')).body.user.roles).toEqual(['user']);
  });

  it('an added role: the old token is refused once, and the refreshed one opens the admin route', async () => {
    await server.gatehouse.auth.changeRoles(ALICE.username, { set: ['user'] });
    const browser = server.browser();
    expect((await browser.login(ALICE)).status).toBe(200);
    expect((await browser.get('/api/admin')).status).toBe(403);
    await server.gatehouse.auth.changeRoles(ALICE.username, { add: ['admin'] });
    expect((await browser.get('/api/admin')).body.error.code).toBe('TOKEN_EXPIRED');
    expect((await browser.post('/auth/refresh')).status).toBe(200);
    expect((await browser.get('/api/admin')).status).toBe(200);
  });

  it('other users are not touched, and a change that changes nothing leaves every token valid', async () => {
    const alice = server.browser();
    expect((await alice.login(ALICE)).status).toBe(200);
    const outcome = await server.gatehouse.auth.changeRoles(ALICE.username, { add: ['admin'] });
    expect(outcome.changed).toBe(false);
    expect((await alice.get('/api/admin')).status).toBe(200);
    await server.gatehouse.auth.changeRoles('bob', { add: ['admin'] });
    expect((await alice.get('/api/admin')).status).toBe(200);
  });
});
