// The demo's gateway and OpenID sign-in, in real Chromium: a call from the
// SPA passes Gatehouse's gateway to the demo's upstream API, which verified
// the forwarded identity with jose alone and answers with what it received;
// once after a password sign-in, once after "Sign in with Demo IdP" through
// the provider's own login and consent pages (another site).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SKIP_BROWSER_TESTS, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';

const RESULTS_DIR = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test-results');

/** The upstream's answer as the page shows it: term → text. */
async function shownIdentity(page: Page): Promise<Record<string, string>> {
  const list = page.getByTestId('upstream-identity');
  await list.locator('dt').first().waitFor();
  return list.evaluate((dl) => {
    const shown: Record<string, string> = {};
    for (const dt of dl.querySelectorAll('dt')) shown[dt.textContent ?? ''] = dt.nextElementSibling?.textContent ?? '';
    return shown;
  });
}

/** Clicks "Call the upstream" and waits for the gateway's answer. */
async function callUpstream(page: Page): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/upstream/whoami'),
    page.getByTestId('upstream-call').click(),
  ]);
  return response.status();
}

/** What no part of the page may hold: a JWT (the forwarded identity, or any other). */
async function expectNoTokenOnPage(page: Page): Promise<void> {
  expect(await page.content()).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+/);
}

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: a call through the gateway to the upstream API', () => {
  let browser: Browser;
  let app: RunningDemo;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    app = await startDemo();
  });
  afterEach(async () => {
    for (const { context } of pages.splice(0)) await context.close().catch(() => {});
    await app?.close();
  });

  async function newDevice(): Promise<WatchedPage> {
    const watched = await openPage(browser, app.origin);
    pages.push(watched);
    return watched;
  }

  it('refuses a call that does not come through the gateway: the upstream wants a verified identity', async () => {
    const direct = await fetch(`${app.demo.upstream.url}/whoami`);
    expect(direct.status).toBe(401);
    const forged = await fetch(`${app.demo.upstream.url}/whoami`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
    expect(forged.status).toBe(401);
    // Signed out, the gateway itself refuses and nothing reaches the upstream.
    const signedOut = await fetch(`${app.origin}/api/upstream/whoami`);
    expect(signedOut.status).toBe(401);
    expect((await signedOut.json()) as unknown).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('after a password sign-in, shows the identity the upstream verified: sub, roles, aud, exp, and no cookie or token', async () => {
    const { page, problems } = await newDevice();
    await page.goto('/');
    await page.getByTestId('login-username').fill(app.credentials.username);
    await page.getByTestId('login-password').fill(app.credentials.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('whoami').filter({ hasText: app.credentials.username }).waitFor();

    const before = Date.now();
    expect(await callUpstream(page)).toBe(200);
    const shown = await shownIdentity(page);
    const user = await app.demo.gatehouse.store.findUserByUsername(app.credentials.username);
    expect(shown).toMatchObject({
      'Subject (sub)': user?.id,
      Username: app.credentials.username,
      Roles: 'user',
      'Audience (aud)': 'demo-upstream',
      'Issuer (iss)': app.origin,
      'Path it was asked for': '/whoami',
      'Your cookies': 'not received',
    });
    // exp is shown in the viewer's locale; the <time> carries the instant: within a minute of the call.
    const exp = Date.parse((await page.getByTestId('upstream-identity').locator('dt:text-is("Expires (exp)") + dd time').getAttribute('datetime')) ?? '');
    expect(exp).toBeGreaterThan(before);
    expect(exp).toBeLessThanOrEqual(Date.now() + 61_000);
    await expectNoTokenOnPage(page);
    expect(await page.locator('#revoke-all-form').isVisible()).toBe(true);
    expect(await page.getByTestId('revoke-all-unavailable').isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it('signs in with the Demo IdP on its own pages, comes back signed in, and the upstream receives that identity', async () => {
    const { page, context, problems } = await newDevice();
    await mkdir(RESULTS_DIR, { recursive: true });
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with Demo IdP' }).waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-sign-in.png') });
    await page.getByRole('button', { name: 'Sign in with Demo IdP' }).click();

    // The provider's own login page, on its own origin (another site than localhost).
    await page.waitForURL((url) => url.origin === app.demo.idp.issuer);
    await page.getByLabel('Username').fill(app.demo.idp.credentials.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-idp-login.png') });
    await page.getByLabel('Password').fill(app.demo.idp.credentials.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Back in the SPA, signed in as the IdP's user, with Gatehouse's HttpOnly cookies only.
    await page.waitForURL(`${app.origin}/`);
    await page.getByTestId('whoami').filter({ hasText: app.demo.idp.credentials.username }).waitFor();
    const cookies = await context.cookies(app.origin);
    expect(cookies.find((cookie) => cookie.name === '__Host-gh_access')).toMatchObject({ httpOnly: true });
    expect(cookies.some((cookie) => cookie.name.startsWith('__Secure-gh_oidc'))).toBe(false);

    expect(await callUpstream(page)).toBe(200);
    const user = await app.demo.gatehouse.store.findUserByUsername(app.demo.idp.credentials.username);
    expect(await shownIdentity(page)).toMatchObject({
      'Subject (sub)': user?.id,
      Username: app.demo.idp.credentials.username,
      Roles: 'none',
      'Audience (aud)': 'demo-upstream',
      'Your cookies': 'not received',
    });
    await expectNoTokenOnPage(page);
    // No password here, so no "Sign out everywhere" form that would ask for one: the page says why.
    await page.getByTestId('revoke-all-unavailable').filter({ hasText: 'You signed in with Demo IdP' }).waitFor();
    expect(await page.locator('#revoke-all-form').isVisible()).toBe(false);
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-gateway-idp.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('signing out of a Demo IdP session ends it at the provider too (RP-initiated logout): the next sign-in asks for the password', async () => {
    const { page, problems } = await newDevice();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with Demo IdP' }).click();
    await page.waitForURL((url) => url.origin === app.demo.idp.issuer);
    await page.getByLabel('Username').fill(app.demo.idp.credentials.username);
    await page.getByLabel('Password').fill(app.demo.idp.credentials.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${app.origin}/`);
    await page.locator('#profile-details').getByText('Demo IdP').waitFor();

    await page.getByTestId('logout').click();
    await page.waitForURL((url) => url.origin === app.demo.idp.issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).waitFor();
    await mkdir(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-idp-logout.png') });
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${app.origin}/`);
    await page.getByTestId('login-form').waitFor();
    const user = await app.demo.gatehouse.store.findUserByUsername(app.demo.idp.credentials.username);
    expect(await app.demo.gatehouse.store.listActiveSessions(user?.id ?? '', Date.now())).toEqual([]);

    // The provider forgot the session: its login form comes back.
    await page.getByRole('button', { name: 'Sign in with Demo IdP' }).click();
    await page.waitForURL((url) => url.origin === app.demo.idp.issuer);
    await page.getByLabel('Password').waitFor();
    expect(problems).toEqual([]);
  });
});
