// Slow answers in the demo UI, driven in real Chromium: a list that loads
// slowly must not wipe out what the user did (or learned) in the meantime.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SKIP_BROWSER_TESTS, launchChromium, openPage, type WatchedPage } from './support/chromium.js';
import { startDemo, type RunningDemo } from './support/demo-server.js';
import { holdFirstResponse, trackBodiesRead, waitForBodiesRead } from './support/network.js';

async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-username').fill(credentials.username);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('whoami').filter({ hasText: credentials.username }).waitFor();
}

const sessionRows = (page: Page) => page.getByTestId('sessions-list').locator('li[data-session-id]');

describe.skipIf(SKIP_BROWSER_TESTS)('demo in Chromium: slow answers', () => {
  let browser: Browser;
  let app: RunningDemo;
  const pages: WatchedPage[] = [];

  async function newDevice(): Promise<WatchedPage> {
    const watched = await openPage(browser, app.origin);
    pages.push(watched);
    await trackBodiesRead(watched.page);
    return watched;
  }

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

  it('keeps a note added while the notes list was still loading', async () => {
    const { page, problems } = await newDevice();
    const firstList = await holdFirstResponse(page, 'GET', '/api/notes');
    await signIn(page, app.credentials);
    await firstList.answered; // the server said "no notes" before the note below existed

    await page.getByTestId('note-input').fill('written during the load');
    await page.getByTestId('note-submit').click();
    await page.getByTestId('notes-list').locator('li', { hasText: 'written during the load' }).waitFor();

    firstList.release();
    await waitForBodiesRead(page, '/api/notes', 2); // the POST's answer and the late list
    expect(await page.getByTestId('notes-list').locator('li').allTextContents()).toEqual([
      expect.stringContaining('written during the load'),
    ]);
    expect(problems).toEqual([]);
  });

  it('does not let a slow first sessions load overwrite a newer Refresh', async () => {
    const laptop = await newDevice();
    const phone = await newDevice();
    const firstList = await holdFirstResponse(laptop.page, 'GET', '/auth/sessions');
    await signIn(laptop.page, app.credentials);
    await firstList.answered; // one session: the phone has not signed in yet
    await signIn(phone.page, app.credentials);

    await laptop.page.locator('#sessions-reload').click();
    await sessionRows(laptop.page).nth(1).waitFor();

    firstList.release();
    await waitForBodiesRead(laptop.page, '/auth/sessions', 2);
    expect(await sessionRows(laptop.page).count()).toBe(2);
    expect(laptop.problems).toEqual([]);
  });
});
