import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, TEST_SECRET, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';

const ACCESS = '__Host-gh_access';
const CLI = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const run = promisify(execFile);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

let userCount = 0;
/** A user of its own for tests that change the password or disable the account. */
async function newUser(): Promise<{ username: string; password: string }> {
  const credentials = { username: `carol${++userCount}`, password: 'a perfectly fine passphrase' };
  await server.gatehouse.auth.createUser(credentials);
  return credentials;
}

interface Session {
  readonly browser: TestBrowser;
  readonly sessionId: string;
  /** Fetches /api/private with a copy of the cookies taken right after login (a stolen or second-tab copy). */
  readonly withCookies: () => Promise<TestResponse>;
  /** Fetches /api/private with the access token as a bearer token: no cookies at all. */
  readonly withBearer: () => Promise<TestResponse>;
}

async function signIn(credentials: { username: string; password: string } = ALICE): Promise<Session> {
  const browser = server.browser();
  const login = await browser.login(credentials);
  expect(login.status).toBe(200);
  const copy = browser.fork();
  const accessToken = browser.cookie(ACCESS)!;
  const session: Session = {
    browser,
    sessionId: login.body.session.id,
    withCookies: () => copy.fork().get('/api/private'),
    withBearer: () => server.browser({ origin: null }).get('/api/private', { headers: { authorization: `Bearer ${accessToken}` } }),
  };
  // Both ways in work before the revocation, so each refusal below is the revocation's doing.
  expect((await session.withCookies()).status).toBe(200);
  expect((await session.withBearer()).status).toBe(200);
  return session;
}

async function expectRevoked(session: Session): Promise<void> {
  for (const response of [await session.withCookies(), await session.withBearer()]) {
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('SESSION_REVOKED');
  }
}

describe('revocation takes effect on the very next request, before the access token expires', () => {
  it('logout', async () => {
    const session = await signIn();
    expect((await session.browser.post('/auth/logout')).status).toBe(204);
    await expectRevoked(session);
  });

  it('DELETE /auth/sessions/:id from another device, leaving that device signed in', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    expect((await laptop.browser.delete(`/auth/sessions/${phone.sessionId}`)).status).toBe(204);
    await expectRevoked(phone);
    expect((await laptop.withBearer()).status).toBe(200);
    expect((await laptop.browser.get('/api/private')).status).toBe(200);
  });

  it('POST /auth/sessions/revoke-all, every device included', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    const response = await laptop.browser.post('/auth/sessions/revoke-all', { json: { password: ALICE.password } });
    expect(response.status).toBe(204);
    await expectRevoked(phone);
    await expectRevoked(laptop);
  });

  it('revoke-all with a wrong password revokes nothing, is audited, and counts towards the throttle', async () => {
    const user = await newUser();
    const { browser } = await signIn(user);
    const userId = (await server.gatehouse.auth.findUser(user.username)).id;
    for (let i = 0; i < 5; i++) {
      const wrong = await browser.post('/auth/sessions/revoke-all', { json: { password: `wrong guess ${i}` } });
      expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    const throttled = await browser.post('/auth/sessions/revoke-all', { json: { password: user.password } });
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('LOGIN_THROTTLED');
    expect((await browser.get('/api/private')).status).toBe(200);
    const failed = await server.gatehouse.store.listAudit({ userId, type: 'login_failed' });
    const refused = await server.gatehouse.store.listAudit({ userId, type: 'login_throttled' });
    expect(failed).toHaveLength(5);
    expect(refused).toHaveLength(1);
  });

  it('a password change (gatehouse.auth.setPassword)', async () => {
    const user = await newUser();
    const session = await signIn(user);
    await server.gatehouse.auth.setPassword(user.username, 'a brand new passphrase');
    await expectRevoked(session);
    expect((await server.browser().login(user)).body.error.code).toBe('INVALID_CREDENTIALS');
    expect((await server.browser().login({ ...user, password: 'a brand new passphrase' })).status).toBe(200);
  });

  it('disabling the user (gatehouse.auth.disableUser); the refresh token dies too', async () => {
    const user = await newUser();
    const session = await signIn(user);
    await server.gatehouse.auth.disableUser(user.username);
    await expectRevoked(session);
    const refresh = await session.browser.post('/auth/refresh');
    expect(refresh.status).toBe(401);
    expect(refresh.body.error.code).toBe('REFRESH_TOKEN_REVOKED');
  });

  it('a disabled user cannot sign in: 401 INVALID_CREDENTIALS, the same body as a wrong password', async () => {
    const user = await newUser();
    const wrongPassword = await server.browser().login({ ...user, password: 'not the password at all' });
    await server.gatehouse.auth.disableUser(user.username);
    const response = await server.browser().login(user);
    expect(response.status).toBe(401);
    expect(response.body).toEqual(wrongPassword.body);
    expect(response.setCookies).toEqual([]);
  });

  it('signing in again in the same browser ends the session it held before (ASVS 5.0 7.2.4)', async () => {
    const before = await signIn();
    expect((await before.browser.login(ALICE)).status).toBe(200);
    await expectRevoked(before);
    expect((await before.browser.get('/api/private')).status).toBe(200); // the new session
  });

  it('signing in again ends the previous session even when its access token has expired (found by the refresh cookie)', async () => {
    const before = await signIn();
    server.clock.advance(6 * 60_000);
    expect((await before.browser.login(ALICE)).status).toBe(200);
    expect((await before.browser.get('/api/private')).status).toBe(200); // the new session
    const list = await before.browser.get('/auth/sessions');
    expect(list.body.sessions.map((s: { id: string }) => s.id)).not.toContain(before.sessionId);
  });

  it('a failed sign-in attempt leaves the current session alone', async () => {
    const session = await signIn();
    expect((await session.browser.login({ ...ALICE, password: 'not the password at all' })).status).toBe(401);
    expect((await session.withBearer()).status).toBe(200);
    expect((await session.browser.get('/api/private')).status).toBe(200);
  });

  it('keeps refusing a revoked session’s access token until the token itself expires', async () => {
    const session = await signIn();
    const issuedAt = server.clock.now();
    expect((await session.browser.post('/auth/logout')).status).toBe(204);
    // The last second in which the token would still pass its own exp check (5 min + 5 s leeway).
    server.clock.set(issuedAt + 304_000);
    await server.gatehouse.revocations.sync(); // prunes what it thinks no token can need any more
    await expectRevoked(session);
    server.clock.set(issuedAt + 306_000);
    const expired = await session.withBearer();
    expect(expired.body.error.code).toBe('TOKEN_EXPIRED');
  });
});

describe('revocation racing a login', () => {
  /** Runs `change` at the worst moment: after the login verified the password, before its session exists. */
  function beforeNextSession(change: () => Promise<unknown>): void {
    const store = server.gatehouse.store;
    const openSession = store.openSession;
    store.openSession = async (...args) => {
      store.openSession = openSession;
      await change();
      return openSession.apply(store, args);
    };
  }

  it('a password change that lands while the old password is being checked leaves no session behind', async () => {
    const user = await newUser();
    beforeNextSession(() => server.gatehouse.auth.setPassword(user.username, 'a brand new passphrase'));
    const browser = server.browser();
    const login = await browser.login(user);
    const userId = (await server.gatehouse.auth.findUser(user.username)).id;
    expect(await server.gatehouse.auth.listSessions(userId)).toEqual([]);
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(login.setCookies).toEqual([]);
    // The check and the session are one transaction: nothing was opened, so nothing had to be revoked.
    expect((await server.gatehouse.store.listAudit({ userId })).map((e) => e.type)).toEqual(['login_failed', 'password_changed', 'user_created']);
  });

  it('disabling the user while the password is being checked leaves no session behind', async () => {
    const user = await newUser();
    beforeNextSession(() => server.gatehouse.auth.disableUser(user.username));
    const login = await server.browser().login(user);
    const sessions = await server.gatehouse.auth.listSessions((await server.gatehouse.auth.findUser(user.username)).id);
    expect(sessions).toEqual([]);
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('revocation by another process sharing the SQLite file', () => {
  async function revokeAliceFromTheCLI(): Promise<void> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b packages/server; npm test does this)`);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_SECRET: TEST_SECRET };
    // cwd: the data dir, so no gatehouse.config.json from the repository is picked up.
    const cli = await run(process.execPath, [CLI, 'session', 'revoke', '--user', 'alice', '--data-dir', server.dataDir], { env, cwd: server.dataDir });
    expect(cli.stdout).toMatch(/alice/);
  }

  async function expectRevokedWithin2s(session: Session): Promise<void> {
    const started = Date.now();
    let cookie: TestResponse;
    let bearer: TestResponse;
    do {
      [cookie, bearer] = await Promise.all([session.withCookies(), session.withBearer()]);
      if (cookie.status === 401 && bearer.status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    } while (Date.now() - started < 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(cookie.body.error.code).toBe('SESSION_REVOKED');
    expect(bearer.body.error.code).toBe('SESSION_REVOKED');
  }

  it('refuses alice’s tokens within about a second after `gatehouse session revoke --user alice`', async () => {
    const session = await signIn();
    await revokeAliceFromTheCLI();
    await expectRevokedWithin2s(session);
  });

  it('does so even when the other process’s clock is an hour behind this one', async () => {
    server.clock.set(Date.now() + 3_600_000);
    const session = await signIn();
    await revokeAliceFromTheCLI();
    await expectRevokedWithin2s(session);
  });
});
