/** Longest delay setTimeout honours (about 24.8 days); longer ones fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface RefreshTimer {
  /** (Re)plans the proactive refresh for an access token that expires at `expiresAtMs` (local clock). */
  schedule(expiresAtMs: number): void;
  cancel(): void;
  dispose(): void;
}

interface VisibilityDocument {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

function visibilityDocument(): VisibilityDocument | undefined {
  const doc = (globalThis as { document?: Partial<VisibilityDocument> }).document;
  return typeof doc?.addEventListener === 'function' && typeof doc.visibilityState === 'string' ? (doc as VisibilityDocument) : undefined;
}

/**
 * Refreshes shortly before the access token expires, so the user's next click
 * does not wait for a 401 and a refresh. The lead is `leadMs` (at most a third
 * of the remaining lifetime) plus random jitter, so tabs and devices that
 * signed in together do not refresh in lockstep. A hidden page does not
 * refresh: it waits until it is shown again (a background tab should not keep
 * a session alive on its own), and then refreshes at once if it is due.
 */
export function createRefreshTimer(leadMs: number, run: () => void): RefreshTimer {
  const doc = visibilityDocument();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = false;

  const fire = () => {
    timer = undefined;
    if (doc?.visibilityState === 'hidden') {
      due = true;
      return;
    }
    due = false;
    run();
  };
  const onVisibility = () => {
    if (due && doc?.visibilityState !== 'hidden') fire();
  };
  doc?.addEventListener('visibilitychange', onVisibility);

  const cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    due = false;
  };

  return {
    schedule(expiresAtMs) {
      cancel();
      const remaining = expiresAtMs - Date.now();
      const lead = Math.min(leadMs, remaining / 3);
      const jitter = Math.random() * Math.min(5_000, remaining / 10);
      timer = setTimeout(fire, Math.min(MAX_DELAY_MS, Math.max(0, remaining - lead - jitter)));
      // Outside a browser (tests, server-side rendering) a pending refresh must not keep the process alive.
      (timer as { unref?: () => void }).unref?.();
    },
    cancel,
    dispose() {
      cancel();
      doc?.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

/** The shortest token lifetime the refresh timer plans with, whatever the server says: never a hot loop. */
export const MIN_PLANNED_LIFETIME_MS = 3_000;

/**
 * When (on this machine's clock) the access token expires: its lifetime is
 * measured against the server's own clock (the answer's `Date` header), so a
 * wrong clock on this machine does not make the client refresh too late or in a loop.
 */
export function localDeadline(iso: string, response: Response | undefined): number {
  const at = Date.parse(iso);
  const serverNow = Date.parse(response?.headers.get('date') ?? '');
  const remaining = at - (Number.isFinite(serverNow) ? serverNow : Date.now());
  return Date.now() + Math.max(MIN_PLANNED_LIFETIME_MS, remaining);
}
