/**
 * PostgreSQL going away under a running Gatehouse, over real HTTP. The shared
 * database keeps running: Gatehouse reaches it through a TCP proxy this test
 * cuts (connections reset) or freezes (connections stay open, nothing answers).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';
import { adminClient, backendPid, freshSchema, requirePostgres, waitUntilBlockedBy, waitUntilGone, type TestSchema } from '../support/postgres.js';
import { startTCPProxy, type TCPProxy } from '../support/tcp-proxy.js';

const ACCESS = '__Host-gh_access';
const UNAVAILABLE = { error: { code: 'STORE_UNAVAILABLE', message: 'The session store is unavailable.' } };

let schema: TestSchema;
let proxy: TCPProxy;
let server: TestServer;

beforeAll(requirePostgres);
beforeEach(async () => {
  schema = freshSchema();
  const target = new URL(schema.url);
  proxy = await startTCPProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(schema.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  server = await startTestServer({ database: { url: url.toString(), schema: schema.schema, timeoutSeconds: 2 } });
});
afterEach(async () => {
  proxy.setMode('forward');
  await server.close();
  await proxy.close();
  await schema.drop();
});

async function signIn(credentials: { username: string; password: string } = ALICE): Promise<{ browser: TestBrowser; sessionId: string; bearer: () => Promise<TestResponse> }> {
  const browser = server.browser();
  const login = await browser.login(credentials);
  expect(login.status).toBe(200);
  const token = browser.cookie(ACCESS) ?? '';
  return {
    browser,
    sessionId: login.body.session.id,
    bearer: () => server.browser({ origin: null }).get('/api/private', { headers: { authorization: `Bearer ${token}` } }),
  };
}

function expectUnavailable(response: TestResponse): void {
  expect(response.status).toBe(503);
  expect(response.body).toEqual(UNAVAILABLE);
  expect(response.headers.get('cache-control')).toBe('no-store');
  // The client keeps its session cookies: the session did not end, the store is just away.
  expect(response.setCookies).toEqual([]);
}

describe('PostgreSQL unreachable', () => {
  it('store-backed requests answer 503 STORE_UNAVAILABLE; valid access tokens keep passing the guard; all recovers when it returns', async () => {
    const alice = await signIn();
    const bob = await signIn(BOB);
    proxy.setMode('reset');

    // The hot path never touches the store.
    expect((await alice.browser.get('/api/private')).status).toBe(200);
    expect((await alice.bearer()).status).toBe(200);

    expectUnavailable(await server.browser().login(ALICE));
    expectUnavailable(await alice.browser.post('/auth/refresh'));
    expectUnavailable(await alice.browser.get('/auth/me'));
    expectUnavailable(await alice.browser.get('/auth/sessions'));
    expectUnavailable(await alice.browser.delete(`/auth/sessions/${alice.sessionId}`));
    expectUnavailable(await bob.browser.post('/auth/logout'));
    expectUnavailable(await bob.browser.post('/auth/sessions/revoke-all', { json: { password: BOB.password } }));

    proxy.setMode('forward');
    // The refresh token the failed refresh presented was not used up; bob's failed logout ended nothing.
    expect((await alice.browser.post('/auth/refresh')).status).toBe(200);
    expect((await bob.browser.get('/auth/me')).status).toBe(200);
    expect((await server.browser().login(ALICE)).status).toBe(200);
    const sessions = await alice.browser.get('/auth/sessions');
    expect(sessions.status).toBe(200);
    expect(sessions.body.sessions.map((s: { id: string }) => s.id)).toContain(alice.sessionId);
    expect((await bob.browser.post('/auth/logout')).status).toBe(204);
  });

  it('a database that stops answering gets 503 within the configured timeout instead of hanging, then recovers', async () => {
    const alice = await signIn();
    proxy.setMode('hang');
    expect((await alice.browser.get('/api/private')).status).toBe(200);
    // timeoutSeconds is 2; a request that hung would run into this bound instead.
    const bounded = (request: Promise<TestResponse>) =>
      Promise.race([request, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('request still hanging after 10 s')), 10_000))]);
    const [login, refresh] = await Promise.all([bounded(server.browser().login(ALICE)), bounded(alice.browser.post('/auth/refresh'))]);
    expectUnavailable(login);
    expectUnavailable(refresh);

    proxy.setMode('forward');
    expect((await alice.browser.post('/auth/refresh')).status).toBe(200);
    expect((await server.browser().login(ALICE)).status).toBe(200);
  });

  it('a revoke-all cut off mid-transaction answers 503 and ends no session', async () => {
    const alice = await signIn();
    const other = await signIn();
    const admin = await adminClient();
    const holder = await adminClient();
    try {
      // Writers of revocation events queue behind this lock (readers do not), so the
      // revoke-all transaction stops after it has marked the sessions revoked.
      const holderPid = await backendPid(holder);
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${schema.schema}".revocation_events IN EXCLUSIVE MODE`);
      const pending = alice.browser.post('/auth/sessions/revoke-all', { json: { password: ALICE.password } });
      const cutPid = await waitUntilBlockedBy(admin, holderPid);
      proxy.setMode('reset');
      expectUnavailable(await pending);
      await holder.query('ROLLBACK');
      await waitUntilGone(admin, cutPid);
    } finally {
      await holder.end();
      await admin.end();
    }

    proxy.setMode('forward');
    for (const session of [alice, other]) {
      expect((await session.browser.get('/auth/me')).status).toBe(200);
      expect((await session.browser.post('/auth/refresh')).status).toBe(200);
    }
    expect((await alice.browser.get('/auth/sessions')).body.sessions).toHaveLength(2);
  });
});
