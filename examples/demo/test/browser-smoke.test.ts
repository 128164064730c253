// Browser smoke test: the demo SPA and server, driven in real Chromium.
// It proves the whole path a new user takes (cookies, CSRF header, Origin
// check, CSP, the UI's state changes), which the HTTP-level tests cannot.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'test-results');

if (SKIP_BROWSER_TESTS) {
  console.warn(`Skipping the demo browser smoke test: no Chromium at ${CHROMIUM_PATH} (this would fail under CI=true).`);
}

/** Waits for the response to `method path` that `action` triggers. */
async function responseTo(page: Page, method: string, path: string, action: () => Promise<unknown>): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path),
    action(),
  ]);
  return response;
}

async function fillLogin(page: Page, username: string, password: string): Promise<Response> {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  return responseTo(page, 'POST', '/auth/login', () => page.getByTestId('login-submit').click());
}

/** Opens the app and waits until it has decided the visitor is signed out. */
async function openSignedOut(page: Page): Promise<void> {
  const me = await responseTo(page, 'GET', '/auth/me', () => page.goto('/'));
  expect(me.status()).toBe(401);
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  expect(await page.getByTestId('whoami').isVisible()).toBe(false);
}

/** Signs in from the login form and waits for the signed-in view to name the user. */
async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  const login = await fillLogin(page, credentials.username, credentials.password);
  expect(login.status()).toBe(200);
  await page.getByTestId('whoami').filter({ hasText: credentials.username }).waitFor({ state: 'visible' });
  expect(await page.getByTestId('whoami').textContent()).toBe(credentials.username);
  expect(await page.getByTestId('login-form').isVisible()).toBe(false);
}

const sessionRows = (page: Page) => page.getByTestId('sessions-list').locator('li[data-session-id]');

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: a new user signs in', () => {
  let browser: Browser;
  let app: RunningDemo;
  const pages: WatchedPage[] = [];

  async function newDevice(): Promise<WatchedPage> {
    const watched = await openPage(browser, app.origin);
    pages.push(watched);
    return watched;
  }

  beforeAll(async () => {
    // Fails (never skips) under CI when Chromium is missing; launchChromium says why.
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

  it('signs in, adds a note, survives a reload with HttpOnly cookies, and signs out', async () => {
    const { page, context, problems } = await newDevice();
    await openSignedOut(page);

    await signIn(page, app.credentials);
    await page.getByTestId('profile-greeting').filter({ hasText: 'Hello, demo!' }).waitFor();

    // Add a note: the POST carries the X-XSRF-TOKEN header read from the cookie and passes the Origin check.
    const noteText = `Bought milk ${Date.now()}`;
    await page.getByTestId('note-input').fill(noteText);
    const added = await responseTo(page, 'POST', '/api/notes', () => page.getByTestId('note-submit').click());
    expect(added.status()).toBe(201);
    expect(added.request().headers()['x-xsrf-token']).toBeTruthy();
    await page.getByTestId('notes-list').locator('li', { hasText: noteText }).waitFor();
    await page.getByTestId('status').filter({ hasText: 'Note added.' }).waitFor();

    // One session, and it is this one.
    await sessionRows(page).first().waitFor();
    expect(await sessionRows(page).count()).toBe(1);
    expect(await sessionRows(page).first().getAttribute('data-current')).toBe('true');

    await mkdir(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-signed-in.png'), fullPage: true });

    // A reload keeps the session: the cookies, not page memory, carry it.
    const me = await responseTo(page, 'GET', '/auth/me', () => page.reload());
    expect(me.status()).toBe(200);
    await page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor();
    await page.getByTestId('notes-list').locator('li', { hasText: noteText }).waitFor();
    expect(await page.getByTestId('login-form').isVisible()).toBe(false);

    // Script sees the CSRF cookie, never the session tokens, which the browser does hold.
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).toMatch(/(^|; )XSRF-TOKEN=/);
    expect(visible).not.toContain('gh_access');
    expect(visible).not.toContain('gh_refresh');
    // Nor through the newer Cookie Store API.
    const viaCookieStore = await page.evaluate(async () => {
      const store = (globalThis as unknown as { cookieStore: { getAll(): Promise<Array<{ name: string }>> } }).cookieStore;
      return (await store.getAll()).map((c) => c.name);
    });
    expect(viaCookieStore).toContain('XSRF-TOKEN');
    expect(viaCookieStore.filter((name) => name.includes('gh_'))).toEqual([]);
    const jar = new Map((await context.cookies()).map((c) => [c.name, c]));
    expect(jar.get('__Host-gh_access')).toMatchObject({ httpOnly: true, secure: true, path: '/' });
    expect(jar.get('__Secure-gh_refresh')).toMatchObject({ httpOnly: true, secure: true, path: '/auth' });

    // Sign out: back to the login form, and the server agrees the session is over.
    const logout = await responseTo(page, 'POST', '/auth/logout', () => page.getByTestId('logout').click());
    expect(logout.status()).toBe(204);
    await page.getByTestId('login-form').waitFor({ state: 'visible' });
    await page.getByTestId('status').filter({ hasText: 'You have signed out.' }).waitFor();
    expect(await page.getByTestId('whoami').textContent()).toBe('');
    expect(await page.getByTestId('notes-list').locator('li').count()).toBe(0);
    expect(await page.evaluate(() => fetch('/auth/me', { cache: 'no-store' }).then((r) => r.status))).toBe(401);
    const left = (await context.cookies()).map((c) => c.name);
    expect(left).not.toContain('__Host-gh_access');
    expect(left).not.toContain('__Secure-gh_refresh');

    expect(problems).toEqual([]);
  });

  it('shows the error for a wrong password and stays signed out', async () => {
    const { page, problems } = await newDevice();
    await openSignedOut(page);

    const login = await fillLogin(page, app.credentials.username, `${app.credentials.password}-wrong`);
    expect(login.status()).toBe(401);
    await page.getByTestId('login-error').filter({ hasText: 'The username or password is incorrect.' }).waitFor();
    expect(await page.getByTestId('login-form').isVisible()).toBe(true);
    expect(await page.getByTestId('whoami').isVisible()).toBe(false);
    // The password is cleared, the username kept for the next try.
    expect(await page.getByTestId('login-password').inputValue()).toBe('');
    expect(await page.getByTestId('login-username').inputValue()).toBe(app.credentials.username);

    // The right password still works afterwards, and clears the error.
    await signIn(page, app.credentials);
    expect(await page.getByTestId('login-error').textContent()).toBe('');

    expect(problems).toEqual([]);
  });

  it('revokes another device from the sessions list; that device lands on the login form', async () => {
    const laptop = await newDevice();
    const phone = await newDevice();
    await openSignedOut(laptop.page);
    await signIn(laptop.page, app.credentials);
    await openSignedOut(phone.page);
    await signIn(phone.page, app.credentials);

    // The laptop refreshes its list and sees both sessions, itself first.
    const listed = await responseTo(laptop.page, 'GET', '/auth/sessions', () => laptop.page.locator('#sessions-reload').click());
    expect(listed.status()).toBe(200);
    await sessionRows(laptop.page).nth(1).waitFor();
    expect(await sessionRows(laptop.page).count()).toBe(2);
    expect(await sessionRows(laptop.page).first().getAttribute('data-current')).toBe('true');
    const other = laptop.page.getByTestId('sessions-list').locator('li[data-session-id]:not([data-current])');
    expect(await other.count()).toBe(1);
    const otherId = await other.getAttribute('data-session-id');
    expect(otherId).toBeTruthy();

    const revoked = await responseTo(laptop.page, 'DELETE', `/auth/sessions/${otherId}`, () =>
      other.getByTestId('revoke').click(),
    );
    expect(revoked.status()).toBe(204);
    await other.waitFor({ state: 'detached' });
    await laptop.page.getByTestId('status').filter({ hasText: 'Session revoked.' }).waitFor();
    expect(await sessionRows(laptop.page).count()).toBe(1);
    expect(await laptop.page.getByTestId('whoami').textContent()).toBe('demo');

    // The phone's next action finds its session gone.
    const me = await responseTo(phone.page, 'GET', '/auth/me', () => phone.page.reload());
    expect(me.status()).toBe(401);
    await phone.page.getByTestId('login-form').waitFor({ state: 'visible' });
    expect(await phone.page.getByTestId('whoami').isVisible()).toBe(false);

    // The laptop is untouched.
    expect(await laptop.page.evaluate(() => fetch('/auth/me', { cache: 'no-store' }).then((r) => r.status))).toBe(200);

    expect(laptop.problems).toEqual([]);
    expect(phone.problems).toEqual([]);
  });
});
