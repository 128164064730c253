import { createSecretKey, randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeyRing } from '../../src/core/keys.js';
import { ALICE, APP_ORIGIN, TEST_SECRET, startTestServer, type TestServer } from '../support/test-server.js';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';

const ACCESS = '__Host-gh_access';
const REFRESH = '__Secure-gh_refresh';
/** The key the server signs with, derived exactly as the server derives it. */
const SERVER_KEY = deriveKeyRing(TEST_SECRET).accessToken;
const GOOD_HEADER = { alg: 'HS256', typ: 'at+jwt' } as const;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

interface SignedIn {
  readonly browser: TestBrowser;
  readonly accessToken: string;
  /** The claims a genuine token for this session carries. */
  readonly claims: JWTPayload & { sid: string; roles: string[]; preferred_username: string };
}

async function signIn(): Promise<SignedIn> {
  const browser = server.browser();
  const login = await browser.login(ALICE);
  expect(login.status).toBe(200);
  const accessToken = browser.cookie(ACCESS)!;
  const iat = Math.floor(server.clock.now() / 1000);
  return {
    browser,
    accessToken,
    claims: {
      iss: APP_ORIGIN,
      aud: APP_ORIGIN,
      sub: login.body.user.id,
      sid: login.body.session.id,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: iat + 300,
      roles: ['user'],
      preferred_username: 'alice',
    },
  };
}

/** A request from a non-browser client: no cookies, no Origin, no CSRF header. */
function withBearer(method: 'GET' | 'POST', path: string, token: string): Promise<TestResponse> {
  return server.browser({ origin: null }).request(method, path, { headers: { authorization: `Bearer ${token}` } });
}

/** Signs with jose: header and claims exactly as given. */
function sign(header: Record<string, unknown> & { alg: string }, payload: JWTPayload, key: Parameters<SignJWT['sign']>[0] = SERVER_KEY): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** The other base64url spellings of a token's signature: same bytes, different unused low bits in the last character. */
function otherSpellings(token: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const dot = token.lastIndexOf('.');
  const signature = token.slice(dot + 1);
  const unusedBits = (signature.length * 6) % 8;
  const last = alphabet.indexOf(signature.at(-1)!);
  const spellings: string[] = [];
  for (let low = 0; low < 1 << unusedBits; low++) {
    const char = alphabet[(last & ~((1 << unusedBits) - 1)) | low]!;
    if (char !== signature.at(-1)) spellings.push(`${token.slice(0, -1)}${char}`);
  }
  return spellings;
}

function expectRefused(response: TestResponse, code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' = 'TOKEN_INVALID'): void {
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe(code);
}

describe('Authorization: Bearer', () => {
  it('authenticates a POST with the access token alone: no cookies, no Origin, no CSRF header', async () => {
    const { accessToken } = await signIn();
    const response = await withBearer('POST', '/api/private', accessToken);
    expect(response.status).toBe(200);
    expect(response.body.auth).toMatchObject({ via: 'bearer', user: { username: 'alice' } });
  });

  it('changes state with a bearer token and no CSRF header (a note is added)', async () => {
    const { accessToken } = await signIn();
    const client = server.browser({ origin: null });
    const headers = { authorization: `Bearer ${accessToken}` };
    const before = (await client.get('/api/notes', { headers })).body.notes as string[];
    const response = await client.post('/api/notes', { json: { text: 'from a script' }, headers });
    expect(response.status).toBe(201);
    expect((await client.get('/api/notes', { headers })).body.notes).toEqual([...before, 'from a script']);
  });

  it('answers /auth/me for a bearer token', async () => {
    const { accessToken } = await signIn();
    const me = await withBearer('GET', '/auth/me', accessToken);
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe('alice');
  });

  it('refuses a bad bearer token with 401 even when valid cookies are present (no fallback)', async () => {
    const { browser } = await signIn();
    expect((await browser.post('/api/private')).status).toBe(200); // the cookies are good
    const response = await browser.post('/api/private', { headers: { authorization: 'Bearer not-a-token' } });
    expectRefused(response);
  });

  it('refuses an empty bearer token even when valid cookies are present', async () => {
    const { browser } = await signIn();
    const response = await browser.get('/api/private', { headers: { authorization: 'Bearer ' } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toMatch(/^(TOKEN_INVALID|INVALID_AUTHORIZATION)$/);
  });

  it('refuses Authorization: Basic with 401 INVALID_AUTHORIZATION, even with valid cookies', async () => {
    const { browser } = await signIn();
    const basic = `Basic ${Buffer.from(`${ALICE.username}:${ALICE.password}`).toString('base64')}`;
    const response = await browser.get('/api/private', { headers: { authorization: basic } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_AUTHORIZATION');
  });

  it('judges a logout carrying Authorization by that header alone: Basic is 401 INVALID_AUTHORIZATION and nothing ends', async () => {
    const { browser } = await signIn();
    const response = await browser.post('/auth/logout', { headers: { authorization: 'Basic YWxpY2U6eA==' } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_AUTHORIZATION');
    expect((await browser.get('/auth/me')).status).toBe(200);
  });

  it('logs out with a bearer token and no cookies: the token is refused afterwards', async () => {
    const { accessToken } = await signIn();
    const logout = await withBearer('POST', '/auth/logout', accessToken);
    expect(logout.status).toBe(204);
    const after = await withBearer('GET', '/api/private', accessToken);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_REVOKED');
  });
});

describe('JWT attacks over HTTP against /api/private', () => {
  it('accepts a token forged with the server’s key and genuine claims (the control for every case below)', async () => {
    const { claims } = await signIn();
    const response = await withBearer('GET', '/api/private', await sign(GOOD_HEADER, claims));
    expect(response.status).toBe(200);
    expect(response.body.auth.sessionId).toBe(claims.sid);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s', async (alg) => {
    const { claims } = await signIn();
    const unsigned = `${b64({ alg, typ: 'at+jwt' })}.${b64(claims)}.`;
    expectRefused(await withBearer('GET', '/api/private', unsigned));
  });

  it('refuses alg none carrying a genuine token’s signature', async () => {
    const { accessToken } = await signIn();
    const [, payload, signature] = accessToken.split('.');
    expectRefused(await withBearer('GET', '/api/private', `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.${signature}`));
  });

  it.each(['HS384', 'HS512'])('refuses %s signed with the same key', async (alg) => {
    const { claims } = await signIn();
    expectRefused(await withBearer('GET', '/api/private', await sign({ alg, typ: 'at+jwt' }, claims)));
  });

  it('refuses a tampered payload (roles: ["admin"]) on /api/admin, where a correctly signed admin token passes', async () => {
    const { accessToken, claims } = await signIn();
    const [header, , signature] = accessToken.split('.');
    const tampered = `${header}.${b64({ ...claims, roles: ['admin'] })}.${signature}`;
    expectRefused(await withBearer('GET', '/api/admin', tampered));
    // Control: the route does admit admins, so the refusal above is the signature's doing.
    expect((await withBearer('GET', '/api/admin', await sign(GOOD_HEADER, { ...claims, roles: ['admin'] }))).status).toBe(200);
    expect((await withBearer('GET', '/api/admin', accessToken)).body.error.code).toBe('FORBIDDEN');
  });

  it.each([
    { what: 'typ JWT', header: { alg: 'HS256', typ: 'JWT' } },
    { what: 'no typ', header: { alg: 'HS256' } },
    { what: 'a kid', header: { alg: 'HS256', typ: 'at+jwt', kid: '../../../../dev/null' } },
    { what: 'a jku', header: { alg: 'HS256', typ: 'at+jwt', jku: 'https://evil.example/jwks.json' } },
    { what: 'crit (b64, which jose itself understands)', header: { alg: 'HS256', typ: 'at+jwt', b64: true, crit: ['b64'] } },
  ])('refuses a correctly signed token whose header has $what', async ({ header }) => {
    const { claims } = await signIn();
    expectRefused(await withBearer('GET', '/api/private', await sign(header, claims)));
  });

  it('refuses a token carrying its own key in the header (embedded jwk), signed with that key', async () => {
    const { claims } = await signIn();
    const attackerKey = randomBytes(32);
    const header = { ...GOOD_HEADER, jwk: { kty: 'oct', k: attackerKey.toString('base64url') } };
    expectRefused(await withBearer('GET', '/api/private', await sign(header, claims, createSecretKey(attackerKey))));
  });

  it('refuses a token signed with another secret', async () => {
    const { claims } = await signIn();
    const otherKey = deriveKeyRing('another-secret-0123456789-abcdefghijklmnop').accessToken;
    expectRefused(await withBearer('GET', '/api/private', await sign(GOOD_HEADER, claims, otherKey)));
  });

  it.each([
    { what: 'a foreign iss', change: { iss: 'https://evil.example' } },
    { what: 'no iss', change: { iss: undefined } },
    { what: 'a foreign aud', change: { aud: 'https://evil.example' } },
    { what: 'no aud', change: { aud: undefined } },
    { what: 'an nbf in the future', change: { nbf: 'future' } },
    { what: 'an iat in the future', change: { iat: 'future' } },
    { what: 'no exp', change: { exp: undefined } },
    { what: 'no sid', change: { sid: undefined } },
    { what: 'roles that are not a list of strings', change: { roles: 'admin' } },
  ])('refuses a correctly signed token with $what', async ({ change }) => {
    const { claims } = await signIn();
    const future = Math.floor(server.clock.now() / 1000) + 120;
    const payload: Record<string, unknown> = { ...claims };
    for (const [name, value] of Object.entries(change)) {
      if (value === undefined) delete payload[name];
      else payload[name] = value === 'future' ? future : value;
    }
    if (payload.iat === future) payload.exp = future + 300;
    expectRefused(await withBearer('GET', '/api/private', await sign(GOOD_HEADER, payload)));
  });

  it('refuses every other spelling of a genuine signature: unused bits of its last character must be zero', async () => {
    const { accessToken } = await signIn();
    expect((await withBearer('GET', '/api/private', accessToken)).status).toBe(200); // and now it is cached, too
    const others = otherSpellings(accessToken);
    expect(others).toHaveLength(3); // 32 bytes in 43 characters: 2 unused bits
    for (const spelling of others) expectRefused(await withBearer('GET', '/api/private', spelling));
  });

  it('refuses a correctly signed token that lives longer than the configured lifetime plus leeway', async () => {
    const { claims } = await signIn();
    const iat = claims.iat!;
    // 300 s lifetime and 5 s leeway in the test server.
    expect((await withBearer('GET', '/api/private', await sign(GOOD_HEADER, { ...claims, exp: iat + 305 }))).status).toBe(200);
    expectRefused(await withBearer('GET', '/api/private', await sign(GOOD_HEADER, { ...claims, exp: iat + 306 })));
  });

  it.each([1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53 * 1000])('answers 401 (not 500) for a correctly signed token with exp %s, as bearer and as the cookie on /auth/me', async (exp) => {
    const { browser, claims } = await signIn();
    const absurd = await sign(GOOD_HEADER, { ...claims, exp });
    expectRefused(await withBearer('GET', '/auth/me', absurd));
    const cookied = browser.fork();
    cookied.jar.set(ACCESS, { value: absurd, path: '/' });
    expectRefused(await cookied.get('/auth/me'));
  });

  it('answers TOKEN_EXPIRED once the access token has expired (clock advanced past exp and leeway)', async () => {
    const { accessToken } = await signIn();
    expect((await withBearer('GET', '/api/private', accessToken)).status).toBe(200);
    server.clock.advance((300 + 5 + 1) * 1000);
    expectRefused(await withBearer('GET', '/api/private', accessToken), 'TOKEN_EXPIRED');
  });

  it('refuses a refresh token presented as an access token, as bearer and as the access cookie', async () => {
    const { browser } = await signIn();
    const refreshToken = browser.jar.get(REFRESH)!.value;
    expectRefused(await withBearer('GET', '/api/private', refreshToken));
    const confused = browser.fork();
    confused.jar.set(ACCESS, { value: refreshToken, path: '/' });
    expectRefused(await confused.get('/api/private'));
  });

  it('refuses a CSRF token presented as an access token, as bearer and as the access cookie', async () => {
    const { browser } = await signIn();
    const csrfToken = browser.cookie('XSRF-TOKEN')!;
    expectRefused(await withBearer('GET', '/api/private', csrfToken));
    const confused = browser.fork();
    confused.jar.set(ACCESS, { value: csrfToken, path: '/' });
    expectRefused(await confused.get('/api/private'));
  });
});
