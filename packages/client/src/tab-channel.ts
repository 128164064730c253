import type { SignOutReason } from './errors.js';
import type { SessionInfo, User } from './types.js';

/** The refresh answers that settle whether a session is over (anything else is transient). */
export type RefreshVerdictCode = 'REFRESH_TOKEN_INVALID' | 'REFRESH_TOKEN_REVOKED' | 'REFRESH_TOKEN_REUSED';

/** What one tab tells the others. */
export type TabMessage =
  | { readonly type: 'signed-in' }
  | { readonly type: 'signed-out'; readonly reason: SignOutReason }
  | { readonly type: 'refreshed'; readonly outcome: RefreshOutcome };

/** The result of one `POST /auth/refresh`, shared between tabs. `at` is when it settled (epoch ms). */
export type RefreshOutcome =
  | { readonly at: number; readonly ok: true; readonly user: User; readonly session: SessionInfo }
  | { readonly at: number; readonly ok: false; readonly code: RefreshVerdictCode };

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** `localStorage`, or undefined where it is missing or throws (Safari private mode, sandboxed frames). */
export function sharedStorage(): StorageLike | undefined {
  try {
    const storage = (globalThis as { localStorage?: StorageLike }).localStorage;
    if (storage === undefined) return undefined;
    storage.getItem('gatehouse:probe');
    return storage;
  } catch {
    return undefined;
  }
}

function isTabMessage(value: unknown): value is TabMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'signed-in' || type === 'signed-out' || type === 'refreshed';
}

/**
 * A line to the other tabs of this origin: BroadcastChannel where it exists,
 * otherwise `storage` events on a localStorage key (they fire in every other
 * tab), otherwise nothing (a single tab still works; it just tells no one).
 */
export function openTabChannel(name: string, onMessage: (message: TabMessage) => void): TabChannel {
  if (typeof BroadcastChannel === 'function') {
    const channel = new BroadcastChannel(name);
    channel.onmessage = (event: MessageEvent<unknown>) => {
      if (isTabMessage(event.data)) onMessage(event.data);
    };
    return { post: (message) => channel.postMessage(message), close: () => channel.close() };
  }
  const storage = sharedStorage();
  const target = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  if (storage === undefined || target.addEventListener === undefined) return { post() {}, close() {} };
  const key = `${name}:message`;
  const listener = (event: StorageEvent) => {
    if (event.key !== key || event.newValue === null) return;
    try {
      const { message } = JSON.parse(event.newValue) as { message: unknown };
      if (isTabMessage(message)) onMessage(message);
    } catch {
      // another script's junk under our key: ignore
    }
  };
  target.addEventListener('storage', listener);
  return {
    post(message) {
      try {
        // A nonce makes every write a change, so two equal messages both fire.
        storage.setItem(key, JSON.stringify({ message, nonce: Math.random() }));
      } catch {
        // storage full or forbidden: this tab keeps working on its own
      }
    },
    close: () => target.removeEventListener?.('storage', listener),
  };
}
