/**
 * The whole sign-in with an OpenID provider in Chromium: an SPA on the
 * browser SDK shows "Sign in with Demo IdP"; the click goes to Gatehouse, on
 * to the real provider's own login and consent pages (oidc-provider, another
 * site: 127.0.0.1 against localhost), back to the SPA signed in, whose API
 * call passes the guard; then "Sign out everywhere" ends the session at
 * Gatehouse and at the provider and comes back signed out.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SKIP_BROWSER_TESTS } from '../../../../examples/demo/test/support/chromium.js';
import { startOIDCServer, type OIDCTestServer } from './support/oidc-server.js';

/** The page's `document`, as the callbacks run by `page.evaluate` see it in Chromium (the tests' own types have no DOM). */
declare const document: { readonly cookie: string };

describe.skipIf(SKIP_BROWSER_TESTS)('sign-in with an OpenID provider in Chromium', () => {
  let server: OIDCTestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startOIDCServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in through the provider\'s own pages, calls the API signed in, and signs out at both', async () => {
    const { page, context, problems } = await openPage(browser, server.origin);
    await page.goto('/');
    await page.getByText('signed out').waitFor();
    await page.getByRole('button', { name: 'Sign in with Demo IdP' }).click();

    // The provider's pages, on the provider's origin.
    await page.waitForURL((url) => url.origin === server.provider.issuer);
    await page.locator('input[name="login"]').fill('browser-user');
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Back in the SPA, signed in; the API answered with the identity the guard verified.
    await page.waitForURL(`${server.origin}/`);
    await page.getByText('signed in as browser-user').waitFor();
    expect(JSON.parse((await page.locator('#api').textContent()) ?? '{}')).toMatchObject({ username: 'browser-user' });

    // The browser holds Gatehouse's cookies only: HttpOnly session cookies, no provider token, no transaction left.
    const cookies = await context.cookies(server.origin);
    const byName = new Map(cookies.map((c) => [c.name, c]));
    expect(byName.get('__Host-gh_access')).toMatchObject({ httpOnly: true, secure: true });
    expect(byName.has('__Secure-gh_oidc_demo')).toBe(false);
    const session = await server.gatehouse.store.listActiveSessions((await server.gatehouse.store.findUserByUsername('browser-user'))?.id ?? '', server.clock.now());
    const providerToken = await server.gatehouse.providerTokens?.accessTokenFor(session[0]?.id ?? '');
    expect(providerToken?.token).toBeTruthy();
    expect(JSON.stringify(cookies)).not.toContain(providerToken?.token ?? '-');
    expect(await page.evaluate(() => document.cookie)).not.toContain(providerToken?.token ?? '-');

    // Sign out everywhere: Gatehouse ends the session, the provider asks, and sends the browser back.
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL((url) => url.origin === server.provider.issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${server.origin}/`);
    await page.getByText('signed out').waitFor();
    expect((await server.gatehouse.store.findSession(session[0]?.id ?? ''))?.revokedAt).not.toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });
});
