/**
 * The callback refuses every forged, replayed or misdirected answer, against
 * a real provider. Answers that need a misbehaving provider rewrite the real
 * provider's own responses (see `tamper`). Each refusal is checked for its
 * code, for opening no session, and for the check that caught it (the audit
 * record's reason), so each test fails for one reason only.
 */
import { decodeJwt, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser, TestResponse } from '../support/test-browser.js';
import { ProviderUser, presentCallback, startLogin, startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

let server: OIDCTestServer;
beforeAll(async () => {
  server = await startOIDCServer();
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  delete server.provider.tamper.tokenResponse;
  delete server.provider.tamper.authorizationRequest;
});

/** A login started in a fresh browser and completed at the provider; the callback not yet presented. */
async function pendingCallback(provider = 'demo', login = 'victim'): Promise<{ browser: TestBrowser; callback: URL }> {
  const browser = server.browser();
  const authorizationURL = await startLogin(browser, provider);
  const callback = await new ProviderUser(login).signIn(authorizationURL, server.origin);
  return { browser, callback };
}

function withParam(url: URL, name: string, value: string | null): URL {
  const copy = new URL(url);
  if (value === null) copy.searchParams.delete(name);
  else copy.searchParams.set(name, value);
  return copy;
}

/** Refused with `code`, and no session cookie set. */
function expectRefused(response: TestResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(response.setCookies.map((c) => c.name)).not.toContain('__Host-gh_access');
  expect(response.setCookies.map((c) => c.name)).not.toContain('__Secure-gh_refresh');
}

async function lastFailureReason(): Promise<unknown> {
  const [event] = await server.gatehouse.store.listAudit({ type: 'login_failed', limit: 1 });
  return event?.detail?.['reason'];
}

describe('state (CSRF on the callback)', () => {
  it('refuses a callback without state', async () => {
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, withParam(callback, 'state', null)), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('state');
  });

  it('refuses a callback with another state (an attacker\'s code injected into the victim\'s browser)', async () => {
    const attacker = await pendingCallback('demo', 'attacker');
    const victim = server.browser();
    await startLogin(victim, 'demo');
    // The attacker's own, valid callback, presented in the victim's browser: its state is not the victim's.
    expectRefused(await presentCallback(victim, attacker.callback), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('state');
  });
});

describe('the authorization code', () => {
  it('a replayed callback fails: the transaction is single use, even with a copy of its cookie', async () => {
    const { browser, callback } = await pendingCallback();
    const copy = browser.fork();
    expect((await presentCallback(browser, callback)).status).toBe(303);
    expectRefused(await presentCallback(browser, callback), 400, 'OIDC_TRANSACTION_INVALID');
    expectRefused(await presentCallback(copy, callback), 400, 'OIDC_TRANSACTION_INVALID');
  });

  it('a used code is refused by the provider when replayed under a fresh transaction', async () => {
    const { browser, callback } = await pendingCallback();
    expect((await presentCallback(browser, callback)).status).toBe(303);
    const other = server.browser();
    const state = new URL(await startLogin(other, 'demo')).searchParams.get('state') ?? '';
    const replay = withParam(callback, 'state', state);
    expectRefused(await presentCallback(other, replay), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('code');
  });
});

describe('mix-up (RFC 9207 iss)', () => {
  it('refuses a callback whose iss names another issuer', async () => {
    const { browser, callback } = await pendingCallback();
    expect(callback.searchParams.get('iss')).toBe(server.provider.issuer);
    expectRefused(await presentCallback(browser, withParam(callback, 'iss', 'https://attacker.example')), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('iss');
  });

  it('refuses a callback without iss from a provider that announces it sends one', async () => {
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, withParam(callback, 'iss', null)), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('iss');
  });
});

describe('the ID token', () => {
  it('refuses an ID token whose nonce is not the transaction\'s', async () => {
    // The provider signs a genuine ID token, for a nonce the attacker chose.
    server.provider.tamper.authorizationRequest = (query) => query.set('nonce', 'attacker-chosen-nonce');
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, callback), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('nonce');
  });

  it('refuses an unsigned ID token (alg: none) carrying the genuine claims', async () => {
    server.provider.tamper.tokenResponse = (body) => ({ ...body, id_token: new UnsecuredJWT(decodeJwt(body.id_token ?? '')).encode() });
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, callback), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('id_token');
  });

  it('refuses an ID token signed with another key under the provider\'s kid', async () => {
    const forger = await generateKeyPair('RS256');
    server.provider.tamper.tokenResponse = async (body) => ({
      ...body,
      id_token: await new SignJWT(decodeJwt(body.id_token ?? '')).setProtectedHeader({ alg: 'RS256', kid: server.provider.signingKey.kid }).sign(forger.privateKey),
    });
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, callback), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('id_token');
  });

  it('refuses an ID token for another audience, though signed by the provider', async () => {
    const key = await importProviderKey();
    server.provider.tamper.tokenResponse = async (body) => ({
      ...body,
      id_token: await new SignJWT({ ...decodeJwt(body.id_token ?? ''), aud: 'another-client' })
        .setProtectedHeader({ alg: 'RS256', kid: server.provider.signingKey.kid })
        .sign(key),
    });
    const { browser, callback } = await pendingCallback();
    expectRefused(await presentCallback(browser, callback), 401, 'OIDC_CALLBACK_REJECTED');
    expect(await lastFailureReason()).toBe('id_token');
  });
});

describe('the transaction cookie', () => {
  it('refuses a callback without it', async () => {
    const { callback } = await pendingCallback();
    expectRefused(await presentCallback(server.browser(), callback), 400, 'OIDC_TRANSACTION_INVALID');
  });

  it('refuses it once expired (transactionTtlSeconds), even though the provider\'s answer is fresh', async () => {
    const { browser, callback } = await pendingCallback();
    server.clock.advance(601_000);
    try {
      expectRefused(await presentCallback(browser, callback), 400, 'OIDC_TRANSACTION_INVALID');
    } finally {
      server.clock.set(Date.now());
    }
  });

  it('refuses a transaction cookie made for another provider, copied under this provider\'s name', async () => {
    const corp = await pendingCallback('corp');
    const demo = await pendingCallback('demo');
    // The attacker holds a valid transaction for corp; the victim's demo callback must not accept it.
    demo.browser.jar.set('__Secure-gh_oidc_demo', { value: corp.browser.cookie('__Secure-gh_oidc_corp') ?? '', path: '/auth/oidc/demo' });
    expectRefused(await presentCallback(demo.browser, demo.callback), 400, 'OIDC_TRANSACTION_INVALID');
    // And corp's callback at demo's endpoint, with corp's cookie renamed, is refused the same way.
    corp.browser.jar.set('__Secure-gh_oidc_demo', { value: corp.browser.cookie('__Secure-gh_oidc_corp') ?? '', path: '/auth/oidc/demo' });
    const misrouted = new URL(corp.callback);
    misrouted.pathname = '/auth/oidc/demo/callback';
    expectRefused(await presentCallback(corp.browser, misrouted), 400, 'OIDC_TRANSACTION_INVALID');
  });

  it('refuses a tampered cookie', async () => {
    const { browser, callback } = await pendingCallback();
    const value = browser.cookie('__Secure-gh_oidc_demo') ?? '';
    const flipped = `${value.slice(0, -3)}${value.at(-3) === 'A' ? 'B' : 'A'}${value.slice(-2)}`;
    browser.jar.set('__Secure-gh_oidc_demo', { value: flipped, path: '/auth/oidc/demo' });
    expectRefused(await presentCallback(browser, callback), 400, 'OIDC_TRANSACTION_INVALID');
  });

  it('is not accepted as any other Gatehouse token (its own typ and key): not as an access token', async () => {
    const browser = server.browser();
    await startLogin(browser, 'demo');
    const transaction = browser.cookie('__Secure-gh_oidc_demo') ?? '';
    const response = await server.browser().get('/api/whoami', { headers: { authorization: `Bearer ${transaction}` } });
    expect(response.status).toBe(401);
  });
});

describe('returnTo (no open redirect)', () => {
  it.each([
    ['//evil.example/path'],
    ['https://evil.example/'],
    ['/\\evil.example'],
    ['\\\\evil.example'],
    ['javascript:alert(1)'],
    ['/\t/evil.example'],
    ['http:/evil.example'],
    ['evil.example'],
  ])('refuses %j at /login, before anything is started', async (target) => {
    const browser = server.browser();
    const response = await browser.get(`/auth/oidc/demo/login?returnTo=${encodeURIComponent(target)}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.setCookies).toEqual([]);
  });

  it('keeps a same-origin path with its query and fragment', async () => {
    const browser = server.browser();
    const authorizationURL = await startLogin(browser, 'demo', '/a/b?c=d#e');
    const callback = await new ProviderUser('returner').signIn(authorizationURL, server.origin);
    const response = await presentCallback(browser, callback);
    expect(response.headers.get('location')).toBe('/a/b?c=d#e');
  });
});

async function importProviderKey() {
  const { importJWK } = await import('jose');
  return importJWK(server.provider.signingKey, 'RS256');
}

describe('a provider that does not sign the user in', () => {
  it('answers 401 OIDC_PROVIDER_DENIED when the user declines at the provider, opening no session', async () => {
    const browser = server.browser();
    const authorizationURL = await startLogin(browser, 'demo');
    const callback = await new ProviderUser('decliner').decline(authorizationURL, server.origin);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expectRefused(await presentCallback(browser, callback), 401, 'OIDC_PROVIDER_DENIED');
  });
});
