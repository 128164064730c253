/**
 * React adapter for `@gatehouse/client`: `<AuthProvider>`, `useAuth()` and
 * `<RequireAuth>`. Works with any router: `<RequireAuth>` renders what you
 * give it for signed-out visitors (a `<Navigate>`, a sign-in form, …).
 *
 * @example
 * ```tsx
 * const auth = createAuthClient();
 * createRoot(root).render(
 *   <AuthProvider client={auth}>
 *     <RequireAuth fallback={<Navigate to="/login" />}><Account /></RequireAuth>
 *   </AuthProvider>,
 * );
 * ```
 *
 * @packageDocumentation
 */
import { createContext, createElement, Fragment, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactElement, type ReactNode } from 'react';
import type { AuthClient, AuthState, User } from './index.js';

/** Where the signed-in state stands: still asking the server, signed in, or signed out. */
export type AuthStatus = 'loading' | 'authenticated' | 'unauthenticated';

/** What {@link useAuth} returns. */
export interface AuthContextValue {
  /** The client given to {@link AuthProvider}: `fetch`, `sessions()`, `revokeSession()`, … */
  readonly client: AuthClient;
  /** `undefined` while loading, `null` when signed out, else the user. */
  readonly state: AuthState;
  /** The user, or `null` while loading or signed out. */
  readonly user: User | null;
  readonly status: AuthStatus;
  /** Signs in; rejects with the client's `AuthError` (e.g. `INVALID_CREDENTIALS`). */
  login(credentials: { readonly username: string; readonly password: string }): Promise<User>;
  /** Signs out here and in every other tab. */
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/** Props of {@link AuthProvider}. */
export interface AuthProviderProps {
  /** One client for the whole app, created once (outside render). */
  readonly client: AuthClient;
  readonly children?: ReactNode;
}

function statusOf(state: AuthState): AuthStatus {
  if (state === undefined) return 'loading';
  return state === null ? 'unauthenticated' : 'authenticated';
}

/**
 * Makes the client's state available to {@link useAuth} and
 * {@link RequireAuth} below it, re-rendering them when it changes, and asks
 * the server once who is signed in.
 */
export function AuthProvider({ client, children }: AuthProviderProps): ReactElement {
  const subscribe = useCallback((onChange: () => void) => client.subscribe(onChange), [client]);
  const state = useSyncExternalStore(subscribe, () => client.state, () => undefined);
  useEffect(() => {
    // Settle `undefined` into a user or null; a 401 here just means signed out.
    if (client.state === undefined) client.getUser().catch(() => {});
  }, [client]);
  const value = useMemo<AuthContextValue>(
    () => ({
      client,
      state,
      user: state ?? null,
      status: statusOf(state),
      login: (credentials) => client.login(credentials),
      logout: () => client.logout(),
    }),
    [client, state],
  );
  return createElement(AuthContext.Provider, { value }, children);
}

/**
 * The signed-in state and the client, from the nearest {@link AuthProvider}.
 *
 * @example
 * ```tsx
 * function Greeting() {
 *   const { user, logout } = useAuth();
 *   return user ? <button onClick={() => logout()}>Sign out {user.username}</button> : null;
 * }
 * ```
 */
export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (value === null) throw new TypeError('useAuth() must be called inside <AuthProvider>.');
  return value;
}

/** Props of {@link RequireAuth}. */
export interface RequireAuthProps {
  /** Rendered for signed-in users (with `role`, if given). */
  readonly children?: ReactNode;
  /** Rendered for signed-out visitors, e.g. `<Navigate to="/login" />`. Default: nothing. */
  readonly fallback?: ReactNode;
  /** Rendered while the client is still asking the server. Default: nothing. */
  readonly loading?: ReactNode;
  /** Only users with this role see `children`. */
  readonly role?: string;
  /** Rendered for signed-in users without `role`. Default: nothing. */
  readonly forbidden?: ReactNode;
}

/**
 * Renders `children` only for a signed-in user (with `role`, if given).
 * Nothing protected is rendered while the answer is unknown.
 *
 * @example
 * ```tsx
 * <Route path="/account" element={<RequireAuth fallback={<Navigate to="/login" replace />}><Account /></RequireAuth>} />
 * ```
 */
export function RequireAuth({ children, fallback = null, loading = null, role, forbidden = null }: RequireAuthProps): ReactElement {
  const { state } = useAuth();
  let shown: ReactNode;
  if (state === undefined) shown = loading;
  else if (state === null) shown = fallback;
  else if (role !== undefined && !state.roles.includes(role)) shown = forbidden;
  else shown = children;
  return createElement(Fragment, null, shown);
}
