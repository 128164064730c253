import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startTestServer, type TestServer } from '../support/test-server.js';

const ACCESS = '__Host-gh_access';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function signedInToken(): Promise<string> {
  const browser = server.browser();
  expect((await browser.login(ALICE)).status).toBe(200);
  return browser.cookie(ACCESS)!;
}

describe('a guard answering a token it has already verified', () => {
  // The adapters call guard.check and only await when handed a Promise: a cache hit must cost no microtask.
  it.each([
    ['an access cookie', (token: string) => new Headers({ cookie: `${ACCESS}=${token}` })],
    ['a bearer header', (token: string) => new Headers({ authorization: `Bearer ${token}` })],
  ])('answers synchronously for %s', async (_via, headersFor) => {
    const token = await signedInToken();
    const guard = server.gatehouse.guard();
    const request = { method: 'GET', headers: headersFor(token) };
    const client = server.gatehouse.clientContext('127.0.0.1', request.headers);
    // The first sight of the token may wait (signature verification, key import); it fills the cache.
    const first = await guard.check(request, client);
    expect(first.ok).toBe(true);

    const cached = guard.check(request, client);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ ok: true, auth: { user: { username: 'alice' } }, setCookies: [] });
  });

  it('still answers a refusal for a revoked session synchronously, never a pass', async () => {
    const token = await signedInToken();
    const guard = server.gatehouse.guard();
    const request = { method: 'GET', headers: new Headers({ authorization: `Bearer ${token}` }) };
    const client = server.gatehouse.clientContext('127.0.0.1', request.headers);
    const first = await guard.check(request, client);
    expect(first.ok).toBe(true);
    if (!first.ok || first.auth === null) throw new Error('expected alice');
    await server.gatehouse.auth.logout(first.auth.sessionId, client);

    const cached = guard.check(request, client);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ ok: false, error: { code: 'SESSION_REVOKED' } });
  });
});
