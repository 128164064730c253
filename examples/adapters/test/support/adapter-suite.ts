// The same user journey, driven in Chromium against each adapter's minimal
// app. Every app follows one page contract (data-testid names below), so a
// difference in behaviour is a difference in the adapter, not in the test.
import type { Browser, BrowserContext, Page, Request, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from '../../../demo/test/support/chromium.js';
import { ALICE, startAppServer, type AppServer } from './app-server.js';
import { buildApp, type Framework } from './build-app.js';

/** A production build of one small app takes seconds; Angular's (ngc, then Vite with the linker) takes longest. */
const BUILD_TIMEOUT_MS = 120_000;
/** Past the access token's lifetime (300 s) and the server's clock tolerance (5 s). */
const PAST_ACCESS_TOKEN_EXPIRY_MS = 10 * 60_000;

export interface AdapterSuiteOptions {
  /** How the app sends its API calls, for the test names ("HttpClient", "client.fetch"). */
  readonly httpClientName: string;
}

/** Waits for the response to `method path` that `action` triggers. */
async function responseTo(page: Page, method: string, path: string, action: () => Promise<unknown>): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path),
    action(),
  ]);
  return response;
}

/** The page's path, and the `returnTo` it was given, if any (routers differ in how they escape it). */
function pathOf(page: Page): string {
  const url = new URL(page.url());
  const returnTo = url.searchParams.get('returnTo');
  return returnTo === null ? url.pathname : `${url.pathname} returnTo=${returnTo}`;
}

async function xsrfCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((cookie) => cookie.name === 'XSRF-TOKEN')?.value;
}

export function describeAdapterApp(framework: Framework, options: AdapterSuiteOptions): void {
  if (SKIP_BROWSER_TESTS) {
    console.warn(`Skipping the ${framework} adapter browser test: no Chromium at ${CHROMIUM_PATH} (this would fail under CI=true).`);
  }

  describe.skipIf(SKIP_BROWSER_TESTS)(`${framework} adapter: a production build of a minimal app, in Chromium`, () => {
    let browser: Browser;
    let server: AppServer;
    const pages: WatchedPage[] = [];

    beforeAll(async () => {
      const [distDir, launched] = await Promise.all([buildApp(framework), launchChromium()]);
      browser = launched;
      server = await startAppServer(distDir);
    }, BUILD_TIMEOUT_MS);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    afterEach(async () => {
      for (const { context, problems } of pages.splice(0)) {
        await context.close().catch(() => {});
        expect(problems, 'script errors on the page').toEqual([]);
      }
    });

    async function newDevice(): Promise<WatchedPage> {
      const watched = await openPage(browser, server.origin);
      pages.push(watched);
      return watched;
    }

    /** Fills and submits the sign-in form; waits for the answer to the login request. */
    async function submitLogin(page: Page, credentials: { username: string; password: string }): Promise<Response> {
      await page.getByTestId('login-username').fill(credentials.username);
      await page.getByTestId('login-password').fill(credentials.password);
      return responseTo(page, 'POST', '/auth/login', () => page.getByTestId('login-submit').click());
    }

    /** Opens the guarded page signed out, lands on sign-in, signs in, is sent back and waits for the page's notes. */
    async function signIn(page: Page): Promise<void> {
      await page.goto('/account');
      await page.getByTestId('login-form').waitFor();
      const notesLoaded = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/api/notes');
      expect((await submitLogin(page, ALICE)).status()).toBe(200);
      expect((await notesLoaded).status()).toBe(200);
      await page.getByTestId('whoami').waitFor();
    }

    async function addNote(page: Page, text: string): Promise<void> {
      await page.getByTestId('note-text').fill(text);
      await page.getByTestId('note-submit').click();
    }

    it('a guarded route sends a signed-out visitor to sign in, and back after signing in', async () => {
      const { page } = await newDevice();
      await page.goto('/account');
      await page.getByTestId('login-form').waitFor();
      expect(pathOf(page)).toBe('/login returnTo=/account');
      expect(await page.getByTestId('whoami').count()).toBe(0);

      expect((await submitLogin(page, ALICE)).status()).toBe(200);
      await page.getByTestId('whoami').waitFor();
      expect(await page.getByTestId('whoami').textContent()).toBe(ALICE.username);
      expect(pathOf(page)).toBe('/account');
    });

    it('a wrong password shows the error code and opens nothing', async () => {
      const { page } = await newDevice();
      await page.goto('/login');
      expect((await submitLogin(page, { username: ALICE.username, password: 'not the password' })).status()).toBe(401);
      await page.getByTestId('login-error').waitFor();
      expect(await page.getByTestId('login-error').textContent()).toBe('INVALID_CREDENTIALS');
      expect(pathOf(page)).toBe('/login');
    });

    it('stays signed in across a reload of the guarded page', async () => {
      const { page } = await newDevice();
      await signIn(page);
      await page.reload();
      await page.getByTestId('whoami').waitFor();
      expect(await page.getByTestId('whoami').textContent()).toBe(ALICE.username);
      expect(pathOf(page)).toBe('/account');
    });

    it(`a state-changing API call through ${options.httpClientName} carries the XSRF header and passes the CSRF check`, async () => {
      const { page, context } = await newDevice();
      await signIn(page);
      const created = await responseTo(page, 'POST', '/api/notes', () => addNote(page, 'first note'));
      expect(created.status()).toBe(201);
      const sent: Request = created.request();
      const cookie = await xsrfCookie(context);
      expect(cookie).toBeTruthy();
      expect(sent.headers()['x-xsrf-token']).toBe(cookie);
      await page.getByTestId('notes').getByText('first note').waitFor();
    });

    it('a route that needs a role the user lacks is refused', async () => {
      const { page } = await newDevice();
      await signIn(page);
      await page.goto('/admin');
      await page.getByTestId('forbidden').waitFor();
      expect(pathOf(page)).toBe('/forbidden');
      expect(await page.getByTestId('admin').count()).toBe(0);
    });

    it(`an expired access token is refreshed once and the ${options.httpClientName} call retried`, async () => {
      const { page } = await newDevice();
      await signIn(page);
      server.clock.advance(PAST_ACCESS_TOKEN_EXPIRY_MS);
      const statuses: string[] = [];
      page.on('response', (r) => {
        const path = new URL(r.url()).pathname;
        if (path === '/api/notes' || path === '/auth/refresh') statuses.push(`${r.request().method()} ${path} ${r.status()}`);
      });
      await addNote(page, 'after expiry');
      await page.getByTestId('notes').getByText('after expiry').waitFor();
      expect(statuses).toEqual(['POST /api/notes 401', 'POST /auth/refresh 200', 'POST /api/notes 201']);
      expect(await page.getByTestId('note-error').count()).toBe(0);
      expect(await page.getByTestId('whoami').textContent()).toBe(ALICE.username);
    });

    it('a session revoked on the server signs the app out at its next API call', async () => {
      const { page } = await newDevice();
      await signIn(page);
      await server.gatehouse.auth.adminRevokeUserSessions(ALICE.username);
      const refused = await responseTo(page, 'POST', '/api/notes', () => addNote(page, 'too late'));
      expect(refused.status()).toBe(401);
      await page.getByTestId('login-form').waitFor();
      expect(new URL(page.url()).pathname).toBe('/login');
      expect(await page.getByTestId('whoami').count()).toBe(0);
    });

    it('signing out ends the session on the server and closes the guarded routes', async () => {
      const { page } = await newDevice();
      await signIn(page);
      const logout = await responseTo(page, 'POST', '/auth/logout', () => page.getByTestId('logout').click());
      expect(logout.status()).toBe(204);
      await page.getByTestId('login-form').waitFor();
      expect(await page.getByTestId('whoami').count()).toBe(0);
      const me = await page.evaluate(async () => (await fetch('/auth/me')).status);
      expect(me).toBe(401);
      await page.goto('/account');
      await page.getByTestId('login-form').waitFor();
      expect(pathOf(page)).toBe('/login returnTo=/account');
    });
  });
}
