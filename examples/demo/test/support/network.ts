import type { Page, Route } from 'playwright-core';

export interface HeldResponse {
  /** Resolves once the server has answered; the page has not seen the answer yet. */
  readonly answered: Promise<void>;
  /** Hands the (by now out-of-date) answer to the page. */
  release(): void;
}

/**
 * Delays the answer to the first `method` request for `path`: the request
 * reaches the server at once (so the answer reflects the state of that
 * moment), but the page only gets it on `release()`. Later requests pass.
 * This reproduces a slow response deterministically, without sleeps.
 */
export async function holdFirstResponse(page: Page, method: string, path: string): Promise<HeldResponse> {
  let answered!: () => void;
  let failed!: (error: unknown) => void;
  const answeredPromise = new Promise<void>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  await page.route(
    (url) => url.pathname === path,
    async (route: Route) => {
      if (holding || route.request().method() !== method) return route.continue();
      holding = true;
      try {
        const response = await route.fetch();
        answered();
        await released;
        await route.fulfill({ response });
      } catch (error) {
        failed(error);
        throw error;
      }
    },
  );
  return { answered: answeredPromise, release };
}

/**
 * Counts, per path, the response bodies the page's scripts have finished
 * reading (the SDK and the demo read every body with `Response.text()`). Call before the
 * first navigation. When {@link waitForBodiesRead} returns, the app's code that
 * runs on that body has run too: it continues in microtasks, which the browser
 * drains before the next check can run.
 */
export async function trackBodiesRead(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const read: Record<string, number> = {};
    Object.defineProperty(window, '__gatehouseBodiesRead', { value: read });
    const text = Response.prototype.text;
    Response.prototype.text = function (this: Response): Promise<string> {
      const path = new URL(this.url).pathname;
      return text.call(this).finally(() => {
        read[path] = (read[path] ?? 0) + 1;
      });
    };
  });
}

export async function waitForBodiesRead(page: Page, path: string, count: number): Promise<void> {
  await page.waitForFunction(
    ([p, n]) => ((window as unknown as { __gatehouseBodiesRead: Record<string, number> }).__gatehouseBodiesRead[p] ?? 0) >= n,
    [path, count] as const,
  );
}
