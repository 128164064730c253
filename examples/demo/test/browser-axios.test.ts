// axios in Chromium against the demo, configured only with withCredentials:
// its default XSRF names (cookie XSRF-TOKEN, header X-XSRF-TOKEN) are
// Gatehouse's, so unsafe requests pass the CSRF check with no other setup.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';

/** axios's browser build (UMD: defines `window.axios`). */
const AXIOS_BROWSER_BUILD = join(dirname(createRequire(import.meta.url).resolve('axios')), '..', 'axios.min.js');

type AxiosWindow = Window & { axios: typeof import('axios').default };

describe.skipIf(SKIP_BROWSER_TESTS)('axios in Chromium', () => {
  let browser: Browser;
  let app: RunningDemo;
  let tab: WatchedPage;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    app = await startDemo();
    tab = await openPage(browser, app.origin);
    // axios's own browser build, served as if it were one of the app's scripts (the CSP allows only 'self').
    const axiosSource = await readFile(AXIOS_BROWSER_BUILD, 'utf8');
    await tab.page.route(`${app.origin}/vendor/axios.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: axiosSource }));
    await tab.page.goto('/');
    await tab.page.getByTestId('login-username').fill(app.credentials.username);
    await tab.page.getByTestId('login-password').fill(app.credentials.password);
    await tab.page.getByTestId('login-submit').click();
    await tab.page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor();
    await tab.page.addScriptTag({ url: '/vendor/axios.js' });
  });

  afterEach(async () => {
    await tab?.context.close().catch(() => {});
    await app?.close();
  });

  it('reads /auth/me and posts a note with only withCredentials set', async () => {
    const [post, result] = await Promise.all([
      tab.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/notes'),
      tab.page.evaluate(async () => {
        const { axios } = window as unknown as AxiosWindow;
        const me = await axios.get('/auth/me', { withCredentials: true });
        const posted = await axios.post('/api/notes', { text: 'from axios' }, { withCredentials: true });
        return { me: me.data.user.username, status: posted.status, note: posted.data.note.text };
      }),
    ]);
    expect(result).toEqual({ me: 'demo', status: 201, note: 'from axios' });
    const xsrfCookie = (await tab.context.cookies()).find((c) => c.name === 'XSRF-TOKEN');
    expect(xsrfCookie?.value).toBeTruthy();
    expect(post.headers()['x-xsrf-token']).toBe(decodeURIComponent(xsrfCookie!.value));
    expect(tab.problems).toEqual([]);
  });

  it('the control: the same POST without the XSRF header is refused', async () => {
    const result = await tab.page.evaluate(async () => {
      const { axios } = window as unknown as AxiosWindow;
      const response = await axios.post('/api/notes', { text: 'no token' }, { withCredentials: true, xsrfCookieName: 'not-the-cookie', validateStatus: () => true });
      return { status: response.status, code: response.data.error.code };
    });
    expect(result).toEqual({ status: 403, code: 'CSRF_REJECTED' });
  });
});
