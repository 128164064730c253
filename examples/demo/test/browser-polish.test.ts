// What a new user of the demo sees, in real Chromium: where the demo
// credentials are, times in their own locale, messages that belong to the
// action they describe, and a sign-in button that says how long to wait.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, STEP_TIMEOUT_MS, launchChromium, openPage, openTab, type WatchedPage } from './support/chromium.js';
import { ShiftedClock, startDemo, type RunningDemo } from './support/demo-server.js';
import { holdFirstResponse } from './support/network.js';

const RESULTS_DIR = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test-results');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, name), fullPage: true });
}

async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(credentials.username);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('whoami').filter({ hasText: credentials.username }).waitFor();
}

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: what a new user sees', () => {
  let browser: Browser;
  let app: RunningDemo | undefined;
  const pages: WatchedPage[] = [];

  async function newDevice(options: { locale?: string; timezoneId?: string } = {}): Promise<WatchedPage> {
    const watched =
      options.locale === undefined
        ? await openPage(browser, app!.origin)
        : await openTab(await browser.newContext({ baseURL: app!.origin, viewport: { width: 1280, height: 900 }, ...options }));
    watched.context.setDefaultTimeout(STEP_TIMEOUT_MS);
    pages.push(watched);
    return watched;
  }

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

  it('the sign-in page says where the demo credentials are', async () => {
    app = await startDemo();
    const { page, problems } = await newDevice();
    await page.goto('/');
    const hint = page.getByTestId('credentials-hint');
    await hint.waitFor({ state: 'visible' });
    const text = (await hint.textContent())?.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('npm start');
    expect(text).toContain('demo-credentials.json');
    expect(text).toContain('.gatehouse/');
    await screenshot(page, 'demo-sign-in.png');
    expect(problems).toEqual([]);
  });

  it('shows every time in the viewer’s locale and time zone, none as an ISO string', async () => {
    app = await startDemo();
    const { page, problems } = await newDevice({ locale: 'de-DE', timezoneId: 'Asia/Tokyo' });
    await signIn(page, app.credentials);
    await page.getByTestId('note-input').fill('Milch kaufen');
    await page.getByTestId('note-submit').click();
    await page.getByTestId('notes-list').locator('li time').waitFor();
    await page.getByTestId('sessions-list').locator('li time').first().waitFor();
    await page.locator('#profile-details time').waitFor();

    // Each <time> against what German in Tokyo looks like, formatted by the same browser's Intl.
    const times = await page.locator('time').evaluateAll((elements) => {
      const absolute = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' });
      const now = new Intl.RelativeTimeFormat('de-DE', { numeric: 'auto' }).format(0, 'second');
      return elements.map((element) => {
        const time = element as HTMLTimeElement;
        return { text: time.textContent, title: time.title, absolute: absolute.format(new Date(time.dateTime)), now };
      });
    });
    // Profile expiry, note, session created and last seen.
    expect(times.length).toBe(4);
    for (const time of times) {
      expect([time.absolute, time.now]).toContain(time.text);
      expect(time.title).toBe(time.absolute);
    }
    expect(times.map((t) => t.text)).toContain('jetzt');
    const pageText = await page.locator('body').innerText();
    expect(pageText).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    await screenshot(page, 'demo-de-DE-Asia-Tokyo.png');
    expect(problems).toEqual([]);
  });

  it('clears the status message when the next action starts, not when it ends', async () => {
    app = await startDemo();
    const { page, problems } = await newDevice();
    await signIn(page, app.credentials);
    await page.getByTestId('sessions-list').locator('li').first().waitFor();
    await page.getByTestId('note-input').fill('first');
    await page.getByTestId('note-submit').click();
    await page.getByTestId('status').filter({ hasText: 'Note added.' }).waitFor();

    const slowList = await holdFirstResponse(page, 'GET', '/auth/sessions');
    await page.locator('#sessions-reload').click();
    await slowList.answered; // the action is under way; its answer has not reached the page
    expect(await page.getByTestId('status').textContent()).toBe('');
    slowList.release();
    expect(problems).toEqual([]);
  });

  it('says what went wrong with “Sign out everywhere” at that form, without mentioning a username', async () => {
    app = await startDemo();
    const { page, problems } = await newDevice();
    await signIn(page, app.credentials);
    const error = page.getByTestId('revoke-all-error');

    // Nothing typed: said at the form.
    await page.getByTestId('revoke-all-submit').click();
    await error.filter({ hasText: 'Enter your password' }).waitFor();
    expect(await page.getByTestId('status').textContent()).toBe('');

    // A wrong password: the server refuses, and the form says so in its own words.
    await page.getByTestId('revoke-all-password').fill(`${app.credentials.password}-wrong`);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/sessions/revoke-all'),
      page.getByTestId('revoke-all-submit').click(),
    ]);
    expect(answer.status()).toBe(401);
    await error.filter({ hasText: 'Wrong password' }).waitFor();
    const text = (await error.textContent()) ?? '';
    expect(text).not.toMatch(/username/i);
    expect(await page.getByTestId('status').textContent()).toBe('');
    expect(await page.getByTestId('whoami').textContent()).toBe(app.credentials.username);
    // The message sits inside the form it is about, and the field points at it.
    expect(await error.evaluate((node) => node.closest('form')?.id)).toBe('revoke-all-form');
    expect(await page.getByTestId('revoke-all-password').getAttribute('aria-describedby')).toContain('revoke-all-error');
    await screenshot(page, 'demo-revoke-all-error.png');
    expect(problems).toEqual([]);
  });

  it('counts down on the sign-in button while sign-in is throttled, then lets the user in', async () => {
    const clock = new ShiftedClock();
    app = await startDemo({ clock, overrides: { login: { accountFreeAttempts: 1 } } });
    // Five wrong passwords, each after the previous wait: the account now waits 16 s.
    for (let failure = 0; failure < 5; failure += 1) {
      if (failure > 0) clock.advance(2 ** (failure - 1) * 1000 + 100); // past the wait the previous failure set
      const answer = await fetch(`${app.origin}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: app.origin },
        body: JSON.stringify({ username: app.credentials.username, password: 'not the password' }),
      });
      expect(answer.status).toBe(401);
    }

    const { page, problems } = await newDevice();
    await page.clock.install(); // the page's timers now move only when the test says so
    await page.goto('/');
    await page.getByTestId('login-username').fill(app.credentials.username);
    await page.getByTestId('login-password').fill(app.credentials.password);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/login'),
      page.getByTestId('login-submit').click(),
    ]);
    expect(answer.status()).toBe(429);
    const retryAfter = Number(answer.headers()['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(15);
    const button = page.getByTestId('login-submit');
    await button.filter({ hasText: `Try again in ${retryAfter} s` }).waitFor();
    expect(await button.isDisabled()).toBe(true);
    expect(await page.getByTestId('login-error').textContent()).toContain('Too many attempts');
    await screenshot(page, 'demo-throttled.png');

    // Enter in the password field does not get past the countdown.
    await page.getByTestId('login-password').fill(app.credentials.password);
    await page.getByTestId('login-password').press('Enter');
    await page.clock.runFor(5_000);
    await button.filter({ hasText: `Try again in ${retryAfter - 5} s` }).waitFor();
    expect(await button.isDisabled()).toBe(true);

    await page.clock.runFor((retryAfter - 5) * 1000);
    await button.filter({ hasText: /^Sign in$/ }).waitFor();
    expect(await button.isEnabled()).toBe(true);
    expect(await page.getByTestId('login-error').textContent()).toBe('');

    clock.advance(retryAfter * 1000);
    await page.getByTestId('login-password').fill(app.credentials.password);
    await button.click();
    await page.getByTestId('whoami').filter({ hasText: app.credentials.username }).waitFor();
    expect(problems).toEqual([]);
  });
});
