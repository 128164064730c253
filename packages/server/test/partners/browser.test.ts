// A partner's page on another site, in Chromium, calling the API with its
// publishable key. Gatehouse and the API are on http://localhost:<port>; the
// partner's registered page is on http://127.0.0.1:<port>, which Chromium
// treats as another site; an unregistered page is on another 127.0.0.1 port
// (another origin). The user is signed in to Gatehouse in the same browser.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../../examples/demo/test/support/chromium.js';
import { startPartnerServer, USER, type PartnerServer } from './support.js';

/** The page's `document`, as the callbacks run by `page.evaluate` see it in Chromium (the tests' own types have no DOM). */
declare const document: { readonly cookie: string };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A site that serves one empty HTML page on 127.0.0.1. */
async function startSite(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>partner</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a page's fetch sees: the status and body when the browser lets it read the answer, else 'blocked'. */
type Seen = { readonly status: number; readonly body: unknown } | 'blocked';

describe.skipIf(SKIP_BROWSER_TESTS)('a partner page on another site, in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let app: PartnerServer;
  let partnerSite: Awaited<ReturnType<typeof startSite>>;
  let otherSite: Awaited<ReturnType<typeof startSite>>;
  let appOrigin: string;
  let keys: { publishableKey: string; secretKey: string };
  /** Every request the app received: method, Origin and Cookie as they arrived. */
  const received: { method: string; origin: string | undefined; cookie: string }[] = [];

  const requestsFrom = (origin: string) => received.filter((r) => r.origin === origin);

  /** Runs fetch calls on a page of `origin` against the API and reports what the page could read. */
  async function fromPage(page: Page, calls: readonly { path: string; method?: string; headers?: Record<string, string>; body?: string }[]): Promise<Seen[]> {
    return page.evaluate(
      async ({ base, calls }) => {
        const seen: Seen[] = [];
        for (const call of calls) {
          try {
            const response = await fetch(base + call.path, { method: call.method ?? 'GET', headers: call.headers ?? {}, body: call.body ?? null, credentials: 'include' });
            seen.push({ status: response.status, body: await response.json() });
          } catch {
            seen.push('blocked');
          }
        }
        return seen;
      },
      { base: appOrigin, calls },
    );
  }

  beforeAll(async () => {
    const port = await freePort();
    appOrigin = `http://localhost:${port}`;
    partnerSite = await startSite();
    otherSite = await startSite();
    app = await startPartnerServer({ publicOrigin: appOrigin }, { port, observe: (method, headers) => received.push({ method, origin: headers.origin, cookie: headers.cookie ?? '' }) });
    keys = await app.gatehouse.partners.admin.add({ id: 'acme', origins: [partnerSite.origin], scopes: ['catalog:read', 'orders:write'] });
    await app.gatehouse.partners.registry?.sync();
    browser = await launchChromium();
    context = await browser.newContext();
    // The user signs in to Gatehouse in this browser, first-party.
    const own = await context.newPage();
    await own.goto(`${appOrigin}/page`);
    const signedIn = await own.evaluate(async (user) => {
      const csrf = await (await fetch('/auth/csrf')).json();
      const token = (csrf as { csrfToken?: string }).csrfToken ?? document.cookie.match(/XSRF-TOKEN=([^;]+)/)?.[1] ?? '';
      const login = await fetch('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', 'x-xsrf-token': token }, body: JSON.stringify(user) });
      return [login.status, (await fetch('/api/private')).status];
    }, USER);
    expect(signedIn).toEqual([200, 200]);
    await own.close();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await partnerSite?.close();
    await otherSite?.close();
  });

  it('the registered page reads the API with its publishable key (CORS), gets its CSRF token and cookie, and changes state with them', async () => {
    const page = await context.newPage();
    await page.goto(`${partnerSite.origin}/`);
    const [catalog, csrf] = await fromPage(page, [
      { path: '/api/catalog', headers: { 'x-gatehouse-key': keys.publishableKey } },
      { path: '/auth/partner/csrf', headers: { 'x-gatehouse-key': keys.publishableKey } },
    ]);
    expect(catalog).toEqual({ status: 200, body: { partner: 'acme', keyKind: 'publishable', scopes: ['catalog:read', 'orders:write'] } });
    expect(csrf).not.toBe('blocked');
    const token = ((csrf as { body: { csrfToken: string } }).body).csrfToken;
    const [withToken, without] = await fromPage(page, [
      { path: '/api/orders', method: 'POST', headers: { 'x-gatehouse-key': keys.publishableKey, 'x-gatehouse-partner-csrf': token, 'content-type': 'application/json' }, body: '{}' },
      { path: '/api/orders', method: 'POST', headers: { 'x-gatehouse-key': keys.publishableKey, 'content-type': 'application/json' }, body: '{}' },
    ]);
    // Chromium stored the partitioned HttpOnly cookie from the cross-site answer and sent it back.
    expect(withToken).toEqual({ status: 200, body: { partner: 'acme', keyKind: 'publishable', scopes: ['catalog:read', 'orders:write'] } });
    expect(without).toMatchObject({ status: 403, body: { error: { code: 'PARTNER_CSRF_REJECTED' } } });
    const cookies = await context.cookies(appOrigin);
    const partnerCookie = cookies.find((c) => c.name === '__Host-gh_partner_csrf');
    expect(partnerCookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'None' });
    await page.close();
  });

  it('the user\'s Gatehouse session cookies never travel with the partner\'s requests: they are SameSite Lax/Strict, which no third-party cookie setting overrides', async () => {
    const accessName = app.gatehouse.config.cookies.accessName;
    const refreshName = app.gatehouse.config.cookies.refreshName;
    const fromPartner = requestsFrom(partnerSite.origin);
    expect(fromPartner.length).toBeGreaterThan(0);
    for (const { cookie } of fromPartner) {
      expect(cookie).not.toContain(`${accessName}=`);
      expect(cookie).not.toContain(`${refreshName}=`);
    }
    // The partner's own CSRF cookie (SameSite=None, partitioned) did travel: third-party cookies are on in this Chromium.
    expect(fromPartner.some(({ cookie }) => cookie.includes('__Host-gh_partner_csrf='))).toBe(true);
    // The control: the session is alive first-party.
    const own = await context.newPage();
    await own.goto(`${appOrigin}/page`);
    expect(await own.evaluate(async () => (await fetch('/api/private')).status)).toBe(200);
    await own.close();
  });

  it('a page on an unregistered origin cannot read the API with the key: the preflight is refused, and so is a simple request', async () => {
    const page = await context.newPage();
    await page.goto(`${otherSite.origin}/`);
    const seen = await fromPage(page, [
      { path: '/api/catalog', headers: { 'x-gatehouse-key': keys.publishableKey } },
      { path: '/auth/partner/csrf', headers: { 'x-gatehouse-key': keys.publishableKey } },
    ]);
    expect(seen).toEqual(['blocked', 'blocked']);
    const reached = requestsFrom(otherSite.origin);
    expect(reached.map((r) => r.method)).toEqual(['OPTIONS', 'OPTIONS']); // only the refused preflights went out
    await page.close();
  });

  it('a secret key used from the registered page is refused, and the page can read why (so the partner notices the leak)', async () => {
    const page = await context.newPage();
    await page.goto(`${partnerSite.origin}/`);
    const [seen] = await fromPage(page, [{ path: '/api/catalog', headers: { 'x-gatehouse-key': keys.secretKey } }]);
    expect(seen).toMatchObject({ status: 403, body: { error: { code: 'PARTNER_SECRET_KEY_IN_BROWSER' } } });
    await page.close();
  });
});
