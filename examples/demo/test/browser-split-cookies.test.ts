// The demo with cookies.accessToken: "split", in real Chromium: the page's
// scripts can read who is signed in (the claims cookie) but never the
// signature, the SDK starts without asking /auth/me, and a script that
// rewrites or carries off the readable half gains nothing.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';

const CLAIMS = '__Host-gh_claims';

async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(credentials.username);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('whoami').filter({ hasText: credentials.username }).waitFor();
}

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: split access cookies', () => {
  let browser: Browser;
  let app: RunningDemo;
  const pages: WatchedPage[] = [];

  async function newDevice(): Promise<WatchedPage> {
    const watched = await openPage(browser, app.origin);
    pages.push(watched);
    return watched;
  }

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    app = await startDemo({ overrides: { cookies: { accessToken: 'split' } } });
  });

  afterEach(async () => {
    for (const { context } of pages.splice(0)) await context.close().catch(() => {});
    await app?.close();
  });

  it('script reads who is signed in from the claims cookie, never the signature; a reload shows the user without /auth/me', async () => {
    const { page, context, problems } = await newDevice();
    await signIn(page, app.credentials);

    const jar = new Map((await context.cookies()).map((c) => [c.name, c]));
    expect(jar.get(CLAIMS)).toMatchObject({ httpOnly: false, secure: true, path: '/' });
    expect(jar.get('__Host-gh_access')).toMatchObject({ httpOnly: true, secure: true, path: '/' });
    const seen = await page.evaluate((name) => {
      const value = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
      const payload = value.split('.')[1] ?? '';
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { preferred_username: string; roles: string[]; exp: number };
      return { cookies: document.cookie, username: claims.preferred_username, roles: claims.roles, expiresInSeconds: claims.exp - Date.now() / 1000 };
    }, CLAIMS);
    expect(seen.username).toBe(app.credentials.username);
    expect(seen.roles).toEqual(['user']);
    expect(seen.expiresInSeconds).toBeGreaterThan(200);
    expect(seen.cookies).not.toContain('gh_access');
    expect(seen.cookies).not.toContain('gh_refresh');

    const requests: string[] = [];
    page.on('request', (request: Request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
    await page.reload();
    await page.getByTestId('whoami').filter({ hasText: app.credentials.username }).waitFor();
    await page.getByTestId('profile-greeting').filter({ hasText: 'Hello, demo!' }).waitFor(); // the API accepts the joined pair
    expect(requests).not.toContain('GET /auth/me');
    expect(requests).toContain('GET /api/profile');
    expect(problems).toEqual([]);
  });

  it('a script that rewrites the readable half (roles: admin) gains nothing: the server refuses the forged token', async () => {
    const { page, problems } = await newDevice();
    await signIn(page, app.credentials);
    const answer = await page.evaluate(async (name) => {
      const value = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
      const [header = '', payload = ''] = value.split('.');
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
      const forged = btoa(JSON.stringify({ ...claims, roles: ['user', 'admin'] })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      document.cookie = `${name}=${header}.${forged}; Path=/; Secure; SameSite=Lax`;
      const rewritten = document.cookie.includes(`${name}=${header}.${forged}`);
      const response = await fetch('/api/profile', { cache: 'no-store' });
      return { rewritten, status: response.status, body: (await response.json()) as { error?: { code: string } } };
    }, CLAIMS);
    expect(answer.rewritten).toBe(true); // the script can write it...
    expect(answer.status).toBe(401); // ...and that is all it can do
    expect(answer.body.error?.code).toBe('TOKEN_INVALID');
    expect(problems).toEqual([]);
  });

  it('the readable half alone, carried to another browser, is refused: that browser ends on the sign-in form', async () => {
    const victim = await newDevice();
    await signIn(victim.page, app.credentials);
    const claims = (await victim.context.cookies()).find((c) => c.name === CLAIMS)!;

    const thief = await newDevice();
    await thief.page.goto('/');
    await thief.page.getByTestId('login-form').waitFor({ state: 'visible' });
    await thief.page.evaluate(([name, value]) => {
      document.cookie = `${name}=${value}; Path=/; Secure; SameSite=Lax`;
    }, [CLAIMS, claims.value] as const);
    await thief.page.reload(); // the SDK believes the cookie for a moment; the first API answers say otherwise
    await thief.page.getByTestId('login-form').waitFor({ state: 'visible' });
    const status = await thief.page.evaluate(() => fetch('/api/profile', { cache: 'no-store' }).then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error.code]));
    expect(status).toEqual([401, 'UNAUTHENTICATED']);
    // The victim is untouched.
    expect(await victim.page.evaluate(() => fetch('/api/profile', { cache: 'no-store' }).then((r) => r.status))).toBe(200);
  });
});
