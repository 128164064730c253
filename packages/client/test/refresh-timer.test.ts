// The proactive refresh timer, on vitest's fake clock. The page's visibility
// is a stand-in document (an EventTarget with visibilityState); Chromium's
// real one is exercised by the demo's browser tests.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRefreshTimer } from '../src/refresh-timer.js';

class PageVisibility extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  set(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

const LEAD_MS = 30_000;
const LIFETIME_MS = 300_000;
const MAX_JITTER_MS = 5_000; // min(5 s, a tenth of the lifetime)

let page: PageVisibility;
let runs: number;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
  page = new PageVisibility();
  (globalThis as { document?: unknown }).document = page;
  runs = 0;
});

afterEach(() => {
  delete (globalThis as { document?: unknown }).document;
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const start = () => {
  const timer = createRefreshTimer(LEAD_MS, () => (runs += 1));
  timer.schedule(Date.now() + LIFETIME_MS);
  return timer;
};

describe('createRefreshTimer', () => {
  it('refreshes once, before expiry by the lead, never earlier than the lead plus the largest jitter', () => {
    const timer = start();
    vi.advanceTimersByTime(LIFETIME_MS - LEAD_MS - MAX_JITTER_MS - 1);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(MAX_JITTER_MS + 1);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(LIFETIME_MS);
    expect(runs).toBe(1);
    timer.dispose();
  });

  it('spreads tabs apart with jitter', () => {
    const spy = vi.spyOn(Math, 'random');
    spy.mockReturnValueOnce(0);
    const early = createRefreshTimer(LEAD_MS, () => (runs += 1));
    early.schedule(Date.now() + LIFETIME_MS);
    spy.mockReturnValueOnce(0.99);
    const late = createRefreshTimer(LEAD_MS, () => (runs += 10));
    late.schedule(Date.now() + LIFETIME_MS);
    vi.advanceTimersByTime(LIFETIME_MS - LEAD_MS - 1_000);
    expect(runs).toBe(10); // only the one with the most jitter has fired
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(11);
    early.dispose();
    late.dispose();
  });

  it('a short lifetime gets a lead of a third of it', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const timer = createRefreshTimer(LEAD_MS, () => (runs += 1));
    timer.schedule(Date.now() + 9_000);
    vi.advanceTimersByTime(5_999);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    timer.dispose();
  });

  it('does not refresh while the page is hidden, and refreshes as soon as it is shown again', () => {
    const timer = start();
    page.set('hidden');
    vi.advanceTimersByTime(LIFETIME_MS * 2);
    expect(runs).toBe(0);
    page.set('visible');
    expect(runs).toBe(1);
    page.set('hidden');
    page.set('visible');
    expect(runs).toBe(1); // shown again with nothing due: nothing to do
    timer.dispose();
  });

  it('showing the page before the refresh is due does not refresh early', () => {
    const timer = start();
    page.set('hidden');
    page.set('visible');
    expect(runs).toBe(0);
    timer.dispose();
  });

  it('rescheduling replaces the plan; cancel and dispose drop it', () => {
    const timer = start();
    timer.schedule(Date.now() + 2 * LIFETIME_MS);
    vi.advanceTimersByTime(LIFETIME_MS);
    expect(runs).toBe(0);
    timer.cancel();
    vi.advanceTimersByTime(2 * LIFETIME_MS);
    expect(runs).toBe(0);
    timer.schedule(Date.now() + LIFETIME_MS);
    page.set('hidden');
    vi.advanceTimersByTime(LIFETIME_MS);
    timer.dispose();
    page.set('visible');
    expect(runs).toBe(0);
  });
});
