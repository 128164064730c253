// Two tabs of one browser (one context: shared cookies, localStorage,
// BroadcastChannel and Web Locks) on the demo, which runs on @gatehouse/client.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, openTab, type WatchedPage } from './support/chromium.js';
import { ShiftedClock, startDemo, type RunningDemo } from './support/demo-server.js';

const ACCESS_TTL_SECONDS = 300; // the demo's (default) access-token lifetime

async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(credentials.username);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('whoami').filter({ hasText: credentials.username }).waitFor();
}

/** Opens the app in `page` and waits until it shows the signed-in user. */
async function openSignedIn(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId('whoami').filter({ hasText: username }).waitFor();
}

const sessionRows = (page: Page) => page.getByTestId('sessions-list').locator('li[data-session-id]');

/** Every request the tabs of `watched`'s context send, as "METHOD /path". */
function recordRequests(watched: WatchedPage): string[] {
  const seen: string[] = [];
  watched.context.on('request', (request: Request) => {
    seen.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  return seen;
}

/**
 * Holds the answers to the first two `method path` requests of the context
 * until both have been answered by the server, then hands both to their
 * tabs at once. Later requests pass. Resolves once both are released.
 */
async function holdUntilBoth(watched: WatchedPage, method: string, path: string): Promise<void> {
  let held = 0;
  let releaseBoth!: () => void;
  const both = new Promise<void>((resolve) => (releaseBoth = resolve));
  await watched.context.route(
    (url) => url.pathname === path,
    async (route) => {
      if (route.request().method() !== method || held >= 2) return route.continue();
      held += 1;
      const response = await route.fetch();
      expect(response.status()).toBe(401);
      if (held === 2) releaseBoth();
      await both;
      await route.fulfill({ response });
    },
  );
  return both;
}

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: two tabs of one browser', () => {
  let browser: Browser;
  let app: RunningDemo | undefined;
  const contexts: WatchedPage[] = [];

  async function twoTabs(): Promise<[WatchedPage, WatchedPage]> {
    const first = await openPage(browser, app!.origin);
    contexts.push(first);
    return [first, await openTab(first.context)];
  }

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    for (const { context } of contexts.splice(0)) await context.close().catch(() => {});
    await app?.close();
    app = undefined;
  });

  /**
   * Signs in in two tabs, moves the server past the access token's expiry,
   * and has both tabs reload their sessions list so that both get
   * TOKEN_EXPIRED at the same moment. Resolves once both lists have been
   * answered again, with what the tabs sent.
   */
  async function expireTogether(setup?: (tab: WatchedPage) => Promise<void>): Promise<{ one: WatchedPage; two: WatchedPage; requests: string[] }> {
    const clock = new ShiftedClock();
    app = await startDemo({ clock });
    const [one, two] = await twoTabs();
    await setup?.(one);
    await signIn(one.page, app.credentials);
    await openSignedIn(two.page, 'demo');
    await sessionRows(one.page).first().waitFor();
    await sessionRows(two.page).first().waitFor();
    const requests = recordRequests(one);
    const sessionAnswers: number[] = [];
    one.context.on('response', (response) => {
      if (new URL(response.url()).pathname === '/auth/sessions') sessionAnswers.push(response.status());
    });

    // Both tabs hold the same access cookie; move the server past its expiry (and the 5 s tolerance).
    clock.advance((ACCESS_TTL_SECONDS + 10) * 1000);
    const bothAnswered = holdUntilBoth(one, 'GET', '/auth/sessions');
    await one.page.locator('#sessions-reload').click();
    await two.page.locator('#sessions-reload').click();
    await bothAnswered;
    // Each tab's first try was refused (TOKEN_EXPIRED) and retried after the refresh.
    await expect.poll(() => [...sessionAnswers].sort()).toEqual([200, 200, 401, 401]);
    for (const tab of [one, two]) {
      await tab.page.waitForFunction(() => document.querySelector('#sessions-message')?.textContent === '');
      expect(await tab.page.getByTestId('whoami').textContent()).toBe('demo');
      expect(await tab.page.evaluate(() => fetch('/api/profile').then((r) => r.status))).toBe(200);
    }
    return { one, two, requests };
  }

  /** The session is alive and was never taken for a stolen one. */
  async function expectNoReuseAlarm(): Promise<void> {
    const { store, auth } = app!.demo.gatehouse;
    expect(await store.listAudit({ type: 'refresh_token_reused' })).toEqual([]);
    expect(await auth.listSessions((await store.findUserByUsername('demo'))!.id)).toHaveLength(1);
  }

  it('both keep working when their access token expires at the same moment: one refresh, and no reuse alarm', async () => {
    const { one, two, requests } = await expireTogether();
    // The Web Lock let only one tab spend the refresh token; the other reused its outcome.
    expect(requests.filter((r) => r === 'POST /auth/refresh')).toHaveLength(1);
    await expectNoReuseAlarm();
    expect([...one.problems, ...two.problems]).toEqual([]);
  });

  it('without Web Locks both tabs may refresh, and the server\'s grace window keeps both signed in', async () => {
    const { one, two, requests } = await expireTogether(async (tab) => {
      await tab.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
    });
    expect(await one.page.evaluate(() => navigator.locks)).toBeUndefined();
    expect(requests.filter((r) => r === 'POST /auth/refresh').length).toBeGreaterThanOrEqual(1);
    await expectNoReuseAlarm();
    expect([...one.problems, ...two.problems]).toEqual([]);
  });

  it('a reload after the access token expired stays signed in: /auth/me is refused, refreshed once, and asked again', async () => {
    const clock = new ShiftedClock();
    app = await startDemo({ clock });
    const [one] = await twoTabs();
    await signIn(one.page, app.credentials);
    clock.advance((ACCESS_TTL_SECONDS + 10) * 1000);
    const answers: string[] = [];
    one.page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (path.startsWith('/auth/')) answers.push(`${response.request().method()} ${path} ${response.status()}`);
    });
    await openSignedIn(one.page, 'demo');
    await sessionRows(one.page).first().waitFor();
    const sessionCalls = answers.filter((a) => a.includes('/auth/me') || a.includes('/auth/refresh'));
    expect(sessionCalls).toEqual(['GET /auth/me 401', 'POST /auth/refresh 200', 'GET /auth/me 200']);
    expect(one.problems).toEqual([]);
  });

  it('signing out in one tab signs the other out within a second, without it asking the server', async () => {
    app = await startDemo();
    const [one, two] = await twoTabs();
    await signIn(one.page, app.credentials);
    await openSignedIn(two.page, 'demo');
    const twoRequests: string[] = [];
    two.page.on('request', (request) => twoRequests.push(`${request.method()} ${new URL(request.url()).pathname}`));

    await Promise.all([
      one.page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/logout' && r.status() === 204),
      one.page.getByTestId('logout').click(),
    ]);
    await two.page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 1_000 });
    await two.page.getByTestId('status').filter({ hasText: 'You have signed out.' }).waitFor();
    expect(await two.page.getByTestId('whoami').textContent()).toBe('');
    expect(twoRequests).toEqual([]); // told by the other tab (BroadcastChannel), not by a failed request
    expect([...one.problems, ...two.problems]).toEqual([]);
  });

  it('without BroadcastChannel, a sign-out still reaches the other tab within a second (storage events)', async () => {
    app = await startDemo();
    const [one, two] = await twoTabs();
    await one.context.addInitScript(() => {
      delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
    });
    await signIn(one.page, app.credentials);
    await openSignedIn(two.page, 'demo');
    expect(await two.page.evaluate(() => typeof BroadcastChannel)).toBe('undefined');
    const twoRequests: string[] = [];
    two.page.on('request', (request) => twoRequests.push(`${request.method()} ${new URL(request.url()).pathname}`));

    await Promise.all([
      one.page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/logout' && r.status() === 204),
      one.page.getByTestId('logout').click(),
    ]);
    await two.page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 1_000 });
    expect(twoRequests).toEqual([]);
    expect([...one.problems, ...two.problems]).toEqual([]);
  });

  it('signing out everywhere in one tab reaches the other within a second', async () => {
    app = await startDemo();
    const [one, two] = await twoTabs();
    await signIn(one.page, app.credentials);
    await openSignedIn(two.page, 'demo');

    await one.page.getByTestId('revoke-all-password').fill(app.credentials.password);
    await Promise.all([
      one.page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/sessions/revoke-all' && r.status() === 204),
      one.page.getByTestId('revoke-all-submit').click(),
    ]);
    await one.page.getByTestId('status').filter({ hasText: 'Signed out on every device.' }).waitFor();
    await two.page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 1_000 });
    expect([...one.problems, ...two.problems]).toEqual([]);
  });

  it('a tab refreshes on its own shortly before the access token expires', async () => {
    app = await startDemo({ overrides: { accessToken: { ttlSeconds: 10 } } });
    const [one] = await twoTabs();
    await signIn(one.page, app.credentials);
    const signedInAt = Date.now();
    // Planned at 10 s minus a lead of a third of the lifetime, minus up to 1 s of jitter: 5.7 to 6.7 s.
    const refreshed = await one.page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/refresh', { timeout: 9_000 });
    expect(refreshed.status()).toBe(200);
    expect(Date.now() - signedInAt).toBeLessThan(10_000);
    expect(await one.page.evaluate(() => fetch('/api/profile').then((r) => r.status))).toBe(200);
    expect(one.problems).toEqual([]);
  });
});
