// A page on another site, in the same browser as a signed-in user, tries to
// act as that user. The app is on http://localhost:<port>; the attacker's page
// is served on http://127.0.0.1:<other port>, which Chromium treats as a
// different site (so SameSite applies), while both stay on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';

/** The attacker's site: serves whatever HTML the test hands it, on 127.0.0.1. */
async function startAttackerSite(): Promise<{ origin: string; pages: Map<string, string>; close(): Promise<void> }> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' }).end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const escapeAttr = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** An HTML form that submits itself on load. */
function autoSubmittingForm(action: string, enctype: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name='${escapeAttr(name)}' value='${escapeAttr(value)}'>`)
    .join('');
  return `<!doctype html><form id="f" method="post" action="${escapeAttr(action)}" enctype="${enctype}">${inputs}</form><script>document.getElementById('f').submit()</script>`;
}

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: a page on another site', () => {
  let browser: Browser;
  let app: RunningDemo;
  let attacker: Awaited<ReturnType<typeof startAttackerSite>>;
  let victim: WatchedPage;
  let evil: Page;

  /** Waits for the app's answer to `method path` while `action` runs on the attacker's page. */
  async function appResponse(method: string, path: string, action: () => Promise<unknown>): Promise<Response> {
    const [response] = await Promise.all([
      evil.waitForResponse((r) => r.url().startsWith(app.origin) && r.request().method() === method && new URL(r.url()).pathname === path),
      action(),
    ]);
    return response;
  }

  /**
   * The app's requests that `action` makes the attacker's page send, once each
   * has finished or failed (Cross-Origin-Resource-Policy makes the browser drop
   * many of the answers, but the requests did reach the server).
   */
  async function appRequests(count: number, action: () => Promise<unknown>): Promise<Request[]> {
    const settled: Request[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const onSettled = (request: Request) => {
      if (!request.url().startsWith(app.origin)) return;
      settled.push(request);
      if (settled.length === count) done();
    };
    evil.on('requestfinished', onSettled);
    evil.on('requestfailed', onSettled);
    await action();
    await all;
    return settled;
  }

  /** Whether the browser attached the session cookie to `request`. */
  async function sentSessionCookie(request: Request): Promise<boolean> {
    return ((await request.allHeaders())['cookie'] ?? '').includes('gh_access');
  }

  /** The victim's state as the app sees it, asked from the victim's own tab. */
  async function victimState(): Promise<{ me: number; notes: unknown[]; sessions: number }> {
    return victim.page.evaluate(async () => {
      const me = (await fetch('/auth/me', { cache: 'no-store' })).status;
      const notes = ((await (await fetch('/api/notes', { cache: 'no-store' })).json()) as { notes: unknown[] }).notes;
      const sessions = ((await (await fetch('/auth/sessions', { cache: 'no-store' })).json()) as { sessions: unknown[] }).sessions.length;
      return { me, notes, sessions };
    });
  }

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    app = await startDemo();
    attacker = await startAttackerSite();
    victim = await openPage(browser, app.origin);
    await victim.page.goto('/');
    await victim.page.getByTestId('login-username').fill(app.credentials.username);
    await victim.page.getByTestId('login-password').fill(app.credentials.password);
    await victim.page.getByTestId('login-submit').click();
    await victim.page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor();
    evil = await victim.context.newPage(); // same browser, same cookie jar
  });

  afterEach(async () => {
    await victim?.context.close().catch(() => {});
    await attacker?.close();
    await app?.close();
  });

  it('cannot add a note or sign the user out with a form POST; the browser does not even send the session cookie', async () => {
    attacker.pages.set('/note', autoSubmittingForm(`${app.origin}/api/notes`, 'text/plain', { '{"text":"forged","pad":"': '"}' }));
    attacker.pages.set('/logout', autoSubmittingForm(`${app.origin}/auth/logout`, 'text/plain', {}));

    const note = await appResponse('POST', '/api/notes', () => evil.goto(`${attacker.origin}/note`));
    expect(note.status()).toBeGreaterThanOrEqual(400);
    expect(await sentSessionCookie(note.request())).toBe(false);

    const logout = await appResponse('POST', '/auth/logout', () => evil.goto(`${attacker.origin}/logout`));
    expect(logout.status()).toBeGreaterThanOrEqual(400);
    expect(['ORIGIN_REJECTED', 'UNSUPPORTED_MEDIA_TYPE']).toContain((await logout.json()).error.code);

    expect(await victimState()).toEqual({ me: 200, notes: [], sessions: 1 });
  });

  it('cannot change anything with image GETs', async () => {
    const targets = ['/auth/logout', '/auth/sessions/revoke-all', '/api/notes?text=forged'];
    attacker.pages.set('/images', `<!doctype html>${targets.map((t) => `<img src="${app.origin}${t}">`).join('')}`);
    const requests = await appRequests(targets.length, () => evil.goto(`${attacker.origin}/images`));
    expect(requests.map((r) => r.url().slice(app.origin.length)).sort()).toEqual([...targets].sort());
    for (const request of requests) expect(await sentSessionCookie(request)).toBe(false);
    expect(await victimState()).toEqual({ me: 200, notes: [], sessions: 1 });

    // The control: a link the user follows (a top-level GET) does carry the Lax access cookie,
    // so the user arrives signed in. That is why no GET may change state.
    attacker.pages.set('/link', `<!doctype html><a id="go" href="${app.origin}/auth/logout">go</a>`);
    await evil.goto(`${attacker.origin}/link`);
    const followed = await appResponse('GET', '/auth/logout', () => evil.click('#go'));
    expect(await sentSessionCookie(followed.request())).toBe(true);
    expect(followed.status()).toBe(405);
    expect(await victimState()).toEqual({ me: 200, notes: [], sessions: 1 });
  });

  it('cannot read /auth/me or change state with fetch and credentials', async () => {
    attacker.pages.set('/', '<!doctype html><title>attacker</title>');
    await evil.goto(`${attacker.origin}/`);
    const outcome = await evil.evaluate(async (target) => {
      const attempt = (input: string, init: RequestInit) =>
        fetch(input, { credentials: 'include', ...init }).then(
          (r) => (r.type === 'opaque' ? 'opaque' : `read ${r.status}`),
          () => 'blocked',
        );
      const body = JSON.stringify({ text: 'forged' });
      return {
        readMe: await attempt(`${target}/auth/me`, {}),
        readMeNoCors: await attempt(`${target}/auth/me`, { mode: 'no-cors' }),
        jsonNote: await attempt(`${target}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        simpleNote: await attempt(`${target}/api/notes`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
        logout: await attempt(`${target}/auth/logout`, { method: 'POST', mode: 'no-cors' }),
        revokeAll: await attempt(`${target}/auth/sessions/revoke-all`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"password":"x"}' }),
      };
    }, app.origin);
    expect(outcome).toEqual({
      readMe: 'blocked', // no CORS headers: the browser hides the answer
      // Sent, but the answer is dropped (Cross-Origin-Resource-Policy: same-origin), and the server refused it anyway:
      readMeNoCors: 'blocked',
      jsonNote: 'blocked', // needs a CORS preflight, which Gatehouse refuses: never sent
      simpleNote: 'blocked', // sent without the session cookie (SameSite), refused as text/plain
      logout: 'blocked', // sent, refused by the Origin check
      revokeAll: 'blocked', // needs a preflight: never sent
    });
    expect(await victimState()).toEqual({ me: 200, notes: [], sessions: 1 });
  });
});
