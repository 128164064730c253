import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mintCSRFToken } from '../../src/core/csrf.js';
import { deriveKeyRing } from '../../src/core/keys.js';
import { ALICE, APP_ORIGIN, BOB, TEST_SECRET, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser } from '../support/test-browser.js';

const EVIL_ORIGIN = 'https://evil.example';
const ACCESS = '__Host-gh_access';

/** Bodies a cross-site HTML form or a "simple" fetch can send without a CORS preflight. */
const NON_JSON_BODIES = [
  { contentType: 'application/x-www-form-urlencoded', body: 'text=forged' },
  { contentType: 'multipart/form-data; boundary=XyZ', body: '--XyZ\r\nContent-Disposition: form-data; name="text"\r\n\r\nforged\r\n--XyZ--\r\n' },
  { contentType: 'text/plain', body: '{"text":"forged"}' },
  { contentType: 'text/plain; charset=application/json', body: '{"text":"forged"}' },
] as const;

// One server for the file: every test signs in afresh, so sessions never leak between tests.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function signedIn(credentials: { username: string; password: string } = ALICE): Promise<TestBrowser> {
  const browser = server.browser();
  expect((await browser.login(credentials)).status).toBe(200);
  return browser;
}

async function notesOf(browser: TestBrowser): Promise<string[]> {
  return (await browser.get('/api/notes')).body.notes as string[];
}

describe('CSRF: unsafe requests under cookie authentication', () => {
  let alice: TestBrowser;
  beforeEach(async () => {
    alice = await signedIn();
  });

  it('accepts a same-origin POST whose X-XSRF-TOKEN equals the XSRF-TOKEN cookie', async () => {
    const response = await alice.post('/api/private');
    expect(response.status).toBe(200);
    expect(response.body.auth).toMatchObject({ via: 'cookie', user: { username: 'alice' } });
  });

  it('refuses a POST without the X-XSRF-TOKEN header', async () => {
    const response = await alice.post('/api/private', { xsrf: false });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses a header that differs from the cookie, even one validly signed for this session', async () => {
    const sessionId = (await alice.get('/auth/me')).body.session.id as string;
    const otherValidToken = mintCSRFToken(deriveKeyRing(TEST_SECRET).csrf, { kind: 'session', id: sessionId });
    expect(otherValidToken).not.toBe(alice.cookie('XSRF-TOKEN'));
    const response = await alice.post('/api/private', { headers: { 'x-xsrf-token': otherValidToken } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses header == cookie when the token was minted for another session (bob’s token in alice’s jar)', async () => {
    const bob = await signedIn(BOB);
    const bobsToken = bob.cookie('XSRF-TOKEN');
    expect(bobsToken).toBeDefined();
    expect((await bob.post('/api/private')).status).toBe(200); // the token itself is good, for bob
    alice.jar.set('XSRF-TOKEN', { value: bobsToken!, path: '/' });
    const response = await alice.post('/api/private');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses a cross-site Origin even with a correct token', async () => {
    const response = await alice.fork({ origin: EVIL_ORIGIN }).post('/api/private');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses Origin: null (sandboxed frames, data: URLs)', async () => {
    const response = await alice.fork({ origin: 'null' }).post('/api/private');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses a request with neither Origin nor Referer', async () => {
    const response = await alice.fork({ origin: null }).post('/api/private');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('accepts a Referer from the trusted origin when Origin is absent', async () => {
    const response = await alice.fork({ origin: null }).post('/api/private', { headers: { referer: `${APP_ORIGIN}/settings?tab=1` } });
    expect(response.status).toBe(200);
  });

  it('refuses a Referer from a foreign origin when Origin is absent', async () => {
    const response = await alice.fork({ origin: null }).post('/api/private', { headers: { referer: `${EVIL_ORIGIN}/${APP_ORIGIN}/` } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses Sec-Fetch-Site: cross-site even with the trusted Origin and a correct token', async () => {
    const response = await alice.post('/api/private', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
    expect((await alice.post('/api/private', { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
  });

  it('never asks for a CSRF token on GET', async () => {
    alice.jar.delete('XSRF-TOKEN');
    const response = await alice.get('/api/private');
    expect(response.status).toBe(200);
    expect(response.body.auth.user.username).toBe('alice');
  });

  it('applies the same checks to /auth routes: a forced logout without the header leaves the session alive', async () => {
    const response = await alice.post('/auth/logout', { xsrf: false });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
    expect((await alice.get('/auth/me')).status).toBe(200);
  });

  it('never lets the ambient cookies alone through: a cross-site POST without the token adds nothing', async () => {
    const browser = await signedIn();
    expect(browser.cookie(ACCESS)).toBeDefined();
    const before = await notesOf(browser);
    const attacker = browser.fork({ origin: EVIL_ORIGIN });
    attacker.jar.delete('XSRF-TOKEN'); // a cross-site page cannot read the cookie to copy it
    const response = await attacker.post('/api/notes', { json: { text: 'forged' } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
    expect(await notesOf(browser)).toEqual(before);
  });
});

describe('CSRF: JSON only, so no form or simple request gets through', () => {
  let alice: TestBrowser;
  beforeEach(async () => {
    alice = await signedIn();
  });

  it('adds a note with a JSON body (the control for the cases below)', async () => {
    const before = await notesOf(alice);
    const response = await alice.post('/api/notes', { json: { text: 'hello' } });
    expect(response.status).toBe(201);
    expect(await notesOf(alice)).toEqual([...before, 'hello']);
  });

  it.each(NON_JSON_BODIES)('refuses $contentType on an app route with 415, adding nothing', async ({ contentType, body }) => {
    const before = await notesOf(alice);
    const response = await alice.post('/api/notes', { body, headers: { 'content-type': contentType } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await notesOf(alice)).toEqual(before);
  });

  it.each(NON_JSON_BODIES)('refuses $contentType on /auth/logout with 415, leaving the session alive', async ({ contentType, body }) => {
    const response = await alice.post('/auth/logout', { body, headers: { 'content-type': contentType } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(response.setCookies).toEqual([]);
    expect((await alice.get('/auth/me')).status).toBe(200);
  });

  it.each(NON_JSON_BODIES)('refuses $contentType on /auth/sessions/revoke-all with 415, revoking nothing', async ({ contentType }) => {
    const phone = await signedIn();
    const body = contentType.startsWith('text/plain') ? JSON.stringify({ password: ALICE.password }) : `password=${encodeURIComponent(ALICE.password)}`;
    const response = await alice.post('/auth/sessions/revoke-all', { body, headers: { 'content-type': contentType } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await phone.get('/auth/me')).status).toBe(200);
    expect((await alice.get('/auth/me')).status).toBe(200);
  });

  it.each(NON_JSON_BODIES)('refuses $contentType on /auth/login with 415 and sets no cookie', async ({ contentType }) => {
    const visitor = server.browser();
    const body = contentType.startsWith('text/plain') ? JSON.stringify(ALICE) : `username=alice&password=${encodeURIComponent(ALICE.password)}`;
    const response = await visitor.post('/auth/login', { body, headers: { 'content-type': contentType } });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(response.setCookies).toEqual([]);
  });
});

describe('CSRF: login', () => {

  it('refuses a login from a foreign Origin with 403 ORIGIN_REJECTED and sets no cookie', async () => {
    const response = await server.browser({ origin: EVIL_ORIGIN }).login(ALICE);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('ORIGIN_REJECTED');
    expect(response.setCookies).toEqual([]);
  });

  it('refuses a login with Sec-Fetch-Site: cross-site even with the trusted Origin', async () => {
    const response = await server.browser().post('/auth/login', { json: ALICE, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('ORIGIN_REJECTED');
    expect(response.setCookies).toEqual([]);
  });

  it.each([
    { what: 'Origin: null', origin: 'null' },
    { what: 'neither Origin nor Referer', origin: null },
  ])('refuses a login with $what', async ({ origin }) => {
    const response = await server.browser({ origin }).login(ALICE);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('ORIGIN_REJECTED');
    expect(response.setCookies).toEqual([]);
  });

  it('issues a new CSRF token on every login; the old session’s token does not work for the new one', async () => {
    const browser = server.browser();
    await browser.login(ALICE);
    const first = browser.cookie('XSRF-TOKEN');
    await browser.login(ALICE);
    const second = browser.cookie('XSRF-TOKEN');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect((await browser.post('/api/private')).status).toBe(200);
    browser.jar.set('XSRF-TOKEN', { value: first!, path: '/' });
    const stale = await browser.post('/api/private');
    expect(stale.status).toBe(403);
    expect(stale.body.error.code).toBe('CSRF_REJECTED');
  });

  it('replaces the anonymous token from GET /auth/csrf on login, and the anonymous token does not pass for the session', async () => {
    const browser = server.browser();
    const anonymous = (await browser.get('/auth/csrf')).body.csrfToken as string;
    expect(browser.cookie('XSRF-TOKEN')).toBe(anonymous);
    await browser.login(ALICE);
    expect(browser.cookie('XSRF-TOKEN')).not.toBe(anonymous);
    browser.jar.set('XSRF-TOKEN', { value: anonymous, path: '/' });
    const response = await browser.post('/api/private');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });
});

describe('CSRF: anonymous guest forms and routes that skip CSRF', () => {

  it('refuses an anonymous POST to /api/guest without a token', async () => {
    const response = await server.browser().post('/api/guest');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('accepts an anonymous POST to /api/guest with the token from GET /auth/csrf', async () => {
    const guest = server.browser();
    const issued = await guest.get('/auth/csrf');
    expect(issued.status).toBe(200);
    expect(guest.cookie('XSRF-TOKEN')).toBe(issued.body.csrfToken);
    const anonymousCookie = issued.setCookies.find((c) => c.name === '__Host-gh_anon');
    expect(anonymousCookie?.attributes.has('httponly')).toBe(true);
    const response = await guest.post('/api/guest');
    expect(response.status).toBe(200);
    expect(response.body.auth).toBeNull();
  });

  it('refuses an anonymous token bound to another visitor’s anonymous cookie', async () => {
    const guest = server.browser();
    const other = server.browser();
    await guest.get('/auth/csrf');
    await other.get('/auth/csrf');
    const othersToken = other.cookie('XSRF-TOKEN')!;
    expect((await other.post('/api/guest')).status).toBe(200); // good token, for the other visitor
    guest.jar.set('XSRF-TOKEN', { value: othersToken, path: '/' });
    const response = await guest.post('/api/guest');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('refuses an anonymous token from a cross-site Origin', async () => {
    const guest = server.browser();
    await guest.get('/auth/csrf');
    const response = await guest.fork({ origin: EVIL_ORIGIN }).post('/api/guest');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it('lets /api/webhook (csrf: "skip") through without a token', async () => {
    const browser = await signedIn();
    const response = await browser.post('/api/webhook', { xsrf: false });
    expect(response.status).toBe(200);
    expect(response.body.auth.user.username).toBe('alice');
  });

  it('still requires a session on /api/webhook: skipping CSRF is not skipping authentication', async () => {
    const response = await server.browser().post('/api/webhook', { xsrf: false });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });
});
