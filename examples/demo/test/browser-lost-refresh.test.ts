// A refresh whose answer the browser never receives (the server rotated the
// token, then the connection dropped), in real Chromium: the SDK tries again
// at once, inside the server's grace window, and the user notices nothing.
import type { Browser, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { ShiftedClock, startDemo, type RunningDemo } from './support/demo-server.js';

const PAST_EXPIRY_MS = (300 + 10) * 1000; // the demo's access-token lifetime plus the clock tolerance

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: a lost refresh answer', () => {
  let browser: Browser;
  let app: RunningDemo | undefined;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    for (const { context } of pages.splice(0)) await context.close().catch(() => {});
    await app?.close();
    app = undefined;
  });

  it('is retried at once: the server gets the same token again inside its grace window, the page stays signed in and no theft is recorded', async () => {
    const clock = new ShiftedClock();
    app = await startDemo({ clock });
    const watched = await openPage(browser, app.origin);
    pages.push(watched);
    const { page, problems } = watched;
    await page.goto('/');
    await page.getByTestId('login-username').fill(app.credentials.username);
    await page.getByTestId('login-password').fill(app.credentials.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('whoami').filter({ hasText: app.credentials.username }).waitFor();
    await page.getByTestId('sessions-list').locator('li').first().waitFor();

    // The first refresh reaches the server, which rotates the token; its answer is then dropped.
    const refreshes: number[] = [];
    await page.route(
      (url) => url.pathname === '/auth/refresh',
      async (route: Route) => {
        const response = await route.fetch();
        refreshes.push(response.status());
        if (refreshes.length === 1) return route.abort('connectionreset');
        return route.fulfill({ response });
      },
    );
    clock.advance(PAST_EXPIRY_MS);
    await page.locator('#sessions-reload').click(); // 401 TOKEN_EXPIRED, then the refresh
    await page.waitForFunction(() => document.querySelector('#sessions-message')?.textContent === '');
    expect(refreshes).toEqual([200, 200]);
    expect(await page.getByTestId('whoami').textContent()).toBe(app.credentials.username);
    expect(await page.getByTestId('status').textContent()).toBe('');
    expect(await page.getByTestId('sessions-list').locator('li[data-session-id]').count()).toBe(1);
    expect(await app.demo.gatehouse.store.listAudit({ type: 'refresh_token_reused' })).toEqual([]);
    // And the session lives on with the successor the retry received.
    clock.advance(PAST_EXPIRY_MS);
    expect(await page.evaluate(() => fetch('/api/profile', { cache: 'no-store' }).then((r) => r.status))).toBe(401);
    await page.locator('#sessions-reload').click();
    await page.waitForFunction(() => document.querySelector('#sessions-message')?.textContent === '');
    expect(refreshes).toEqual([200, 200, 200]);
    expect(await page.getByTestId('whoami').textContent()).toBe(app.credentials.username);
    expect(problems).toEqual([]);
  });
});
