/**
 * Vue adapter for `@gatehouse/client`: a plugin, the `useAuth()` composable
 * and a vue-router navigation guard. It imports nothing from vue-router at
 * run time (types only).
 *
 * @example
 * ```ts
 * const auth = createAuthClient();
 * const router = createRouter({
 *   history: createWebHistory(),
 *   routes: [{ path: '/account', component: Account, beforeEnter: authGuard(auth) }],
 * });
 * createApp(App).use(createGatehouse(auth)).use(router).mount('#app');
 * ```
 *
 * @packageDocumentation
 */
import { computed, inject, readonly, shallowRef, type ComputedRef, type InjectionKey, type Plugin, type Ref } from 'vue';
import type { NavigationGuard, RouteLocationRaw } from 'vue-router';
import { isAuthError } from './errors.js';
import type { AuthClient, AuthState, User } from './index.js';

/** What {@link useAuth} returns. */
export interface UseAuth {
  /** The client given to {@link createGatehouse}: `fetch`, `sessions()`, `revokeSession()`, … */
  readonly client: AuthClient;
  /** `undefined` while loading, `null` when signed out, else the user. */
  readonly state: Readonly<Ref<AuthState>>;
  /** The user, or `null` while loading or signed out. */
  readonly user: ComputedRef<User | null>;
  /** True while a user is signed in. */
  readonly isAuthenticated: ComputedRef<boolean>;
  /** Signs in; rejects with the client's `AuthError` (e.g. `INVALID_CREDENTIALS`). */
  login(credentials: { readonly username: string; readonly password: string }): Promise<User>;
  /** Signs out here and in every other tab. */
  logout(): Promise<void>;
}

/** The key under which {@link createGatehouse} provides {@link UseAuth}. */
export const GATEHOUSE_KEY: InjectionKey<UseAuth> = Symbol('gatehouse');

/**
 * The plugin: provides the client's state to {@link useAuth} in every
 * component as a ref that follows the client, and asks the server once who is
 * signed in.
 *
 * @example
 * ```ts
 * createApp(App).use(createGatehouse(createAuthClient())).mount('#app');
 * ```
 */
export function createGatehouse(client: AuthClient): Plugin {
  return {
    install(app) {
      const state = shallowRef<AuthState>(client.state);
      const unsubscribe = client.subscribe((next) => {
        state.value = next;
      });
      app.onUnmount(unsubscribe);
      app.provide(GATEHOUSE_KEY, {
        client,
        state: readonly(state),
        user: computed(() => state.value ?? null),
        isAuthenticated: computed(() => state.value != null),
        login: (credentials) => client.login(credentials),
        logout: () => client.logout(),
      });
      // Settle `undefined` into a user or null; a 401 here just means signed out.
      if (client.state === undefined) client.getUser().catch(() => {});
    },
  };
}

/**
 * The signed-in state and the client, inside a component's `setup`.
 *
 * @example
 * ```ts
 * const { user, logout } = useAuth();
 * ```
 */
export function useAuth(): UseAuth {
  const auth = inject(GATEHOUSE_KEY, null);
  if (auth === null) throw new TypeError('useAuth() needs the plugin: app.use(createGatehouse(client)).');
  return auth;
}

/** Options for {@link authGuard}. */
export interface AuthGuardOptions {
  /** Where a signed-out visitor is sent. Default `/login`. The page they wanted is passed as `?returnTo=`. */
  readonly redirectTo?: string;
  /** Only users with this role may enter. */
  readonly role?: string;
  /** Where a signed-in user without `role` is sent. Default: nowhere (the navigation is cancelled). */
  readonly forbiddenRedirectTo?: RouteLocationRaw;
}

/**
 * A navigation guard for `beforeEnter` (or `router.beforeEach`) that lets
 * signed-in users through and sends signed-out visitors to the sign-in page.
 * Fails closed: if the server cannot be asked (offline, 5xx), the navigation
 * is cancelled and the route does not open.
 *
 * @example
 * ```ts
 * { path: '/admin', component: Admin, beforeEnter: authGuard(auth, { role: 'admin', forbiddenRedirectTo: '/' }) }
 * ```
 */
export function authGuard(client: AuthClient, options: AuthGuardOptions = {}): NavigationGuard {
  return async (to) => {
    let user: User;
    try {
      user = await client.requireUser();
    } catch (error) {
      // Signed out (401): to sign in. Server unreachable or failing: cancel, since signing in would not help.
      if (!isAuthError(error) || error.status !== 401) return false;
      return { path: options.redirectTo ?? '/login', query: { returnTo: to.fullPath } };
    }
    if (options.role === undefined || user.roles.includes(options.role)) return true;
    return options.forbiddenRedirectTo ?? false;
  };
}
