import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's Chromium; CI installs it with `apt-get install chromium`. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** CI sets CI=true (GitHub Actions, GitLab, most others). "false" / "0" / "" mean not CI. */
export const IN_CI = !['', '0', 'false'].includes((process.env['CI'] ?? '').trim().toLowerCase());

export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM_PATH);

/**
 * Browser tests may be skipped only on a developer machine without Chromium.
 * Under CI a missing browser is a failure, never a silent skip.
 */
export const SKIP_BROWSER_TESTS = !CHROMIUM_AVAILABLE && !IN_CI;

export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM_AVAILABLE) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}, and CI is set, so the browser smoke test cannot be skipped. ` +
        'Install it in the CI image with `apt-get install -y chromium`.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** How long any single wait may take; a broken page should fail fast and say where. */
export const STEP_TIMEOUT_MS = 5_000;

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught exceptions and console errors, except the network failures the test provokes on purpose. */
  readonly problems: string[];
}

/**
 * A fresh context (its own cookie jar: another device) with one page, which
 * records script errors. Chromium logs every non-2xx fetch as "Failed to load
 * resource"; those are expected (401 before sign-in, a wrong password) and are
 * checked through responses instead, so they are not counted as problems.
 */
export async function openPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  return openTab(context);
}

/** Another tab in the same context: same cookies, localStorage, BroadcastChannel and Web Locks. */
export async function openTab(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    if (message.text().startsWith('Failed to load resource')) return;
    problems.push(`console.error: ${message.text()}`);
  });
  return { context, page, problems };
}
