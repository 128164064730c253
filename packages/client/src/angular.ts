/**
 * Angular adapter for `@gatehouse/client`: a provider, a service exposing the
 * user as signals, a functional HTTP interceptor and functional route guards.
 *
 * It adds nothing to Angular's own XSRF handling: `HttpClient` keeps copying
 * the `XSRF-TOKEN` cookie into `X-XSRF-TOKEN` on its own.
 *
 * @example
 * ```ts
 * bootstrapApplication(App, {
 *   providers: [
 *     provideGatehouse(createAuthClient()),
 *     provideHttpClient(withInterceptors([gatehouseInterceptor])),
 *     provideRouter([{ path: 'account', component: Account, canActivate: [authGuard()] }]),
 *   ],
 * });
 * ```
 *
 * @packageDocumentation
 */
import { HttpErrorResponse, type HttpEvent, type HttpInterceptorFn } from '@angular/common/http';
import {
  computed,
  DestroyRef,
  inject,
  InjectionToken,
  makeEnvironmentProviders,
  signal,
  type EnvironmentProviders,
  type Signal,
} from '@angular/core';
import { Router, type CanActivateFn, type UrlTree } from '@angular/router';
import { catchError, from, switchMap, throwError, type Observable } from 'rxjs';
import { isAuthError } from './errors.js';
import type { AuthClient, AuthState, User } from './index.js';

/** The client given to {@link provideGatehouse}, for code that wants it directly. */
export const GATEHOUSE_CLIENT = new InjectionToken<AuthClient>('GATEHOUSE_CLIENT');

/**
 * The signed-in state as signals, and the client's actions. Get it with
 * `inject(GatehouseAuth)` once {@link provideGatehouse} is in the providers.
 *
 * @example
 * ```ts
 * @Component({ template: `@if (auth.user(); as user) { Hello {{ user.username }} }` })
 * class Greeting {
 *   readonly auth = inject(GatehouseAuth);
 * }
 * ```
 */
export class GatehouseAuth {
  /** `undefined` while the client has not heard from the server, `null` when signed out, else the user. */
  readonly state: Signal<AuthState>;
  /** The user, or `null` while unknown or signed out. */
  readonly user: Signal<User | null>;
  /** True while a user is signed in. */
  readonly isAuthenticated: Signal<boolean>;

  /** Built by {@link provideGatehouse}; `client.subscribe` feeds the signals until `destroyRef` ends. */
  constructor(
    readonly client: AuthClient,
    destroyRef: DestroyRef,
  ) {
    const state = signal<AuthState>(client.state);
    destroyRef.onDestroy(client.subscribe((next) => state.set(next)));
    this.state = state.asReadonly();
    this.user = computed(() => state() ?? null);
    this.isAuthenticated = computed(() => state() != null);
    // Settle `undefined` into a user or null; a 401 here just means signed out.
    if (client.state === undefined) client.getUser().catch(() => {});
  }

  /** Signs in; the signals follow. Rejects with the client's `AuthError` (e.g. `INVALID_CREDENTIALS`). */
  login(credentials: { readonly username: string; readonly password: string }): Promise<User> {
    return this.client.login(credentials);
  }

  /** Signs out here and in every other tab. */
  logout(): Promise<void> {
    return this.client.logout();
  }
}

/**
 * Registers the client for {@link GatehouseAuth}, {@link gatehouseInterceptor}
 * and the guards. The first `inject(GatehouseAuth)` asks the server who is
 * signed in, unless the client already knows.
 */
export function provideGatehouse(client: AuthClient): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: GATEHOUSE_CLIENT, useValue: client },
    { provide: GatehouseAuth, useFactory: () => new GatehouseAuth(client, inject(DestroyRef)) },
  ]);
}

/** Gatehouse's `/auth/*` calls go through the client itself; the interceptor leaves them alone. */
const AUTH_PATH = /^\/auth(\/|$)/;

/** The page-relative or same-origin URL of a request, or undefined for another origin. */
function ownPath(url: string): string | undefined {
  const location = (globalThis as { location?: Location }).location;
  if (location === undefined) return undefined;
  try {
    const target = new URL(url, location.href);
    return target.origin === location.origin ? target.pathname : undefined;
  } catch {
    return undefined;
  }
}

/** Gatehouse's error code in an `HttpErrorResponse` body, whatever `responseType` the request used. */
function errorCode(error: HttpErrorResponse): string | undefined {
  let body: unknown = error.error;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Functional `HttpClient` interceptor for requests to the page's own origin.
 * On a 401 `TOKEN_EXPIRED` it refreshes the session (once, shared with every
 * other request and tab) and retries the request once; on any other 401, or
 * when the refresh fails, it lets the client learn that the session has ended
 * (so `GatehouseAuth.state` becomes `null`) and passes the error on.
 * Requests to other origins are never touched.
 *
 * @example
 * ```ts
 * provideHttpClient(withInterceptors([gatehouseInterceptor]))
 * ```
 */
export const gatehouseInterceptor: HttpInterceptorFn = (request, next): Observable<HttpEvent<unknown>> => {
  const path = ownPath(request.url);
  if (path === undefined || AUTH_PATH.test(path)) return next(request);
  const client = inject(GATEHOUSE_CLIENT);
  /** A 401 that no refresh can mend: ask the server who is signed in, so an ended session turns the state to null. */
  const settle = (error: unknown): Observable<never> => {
    if (error instanceof HttpErrorResponse && error.status === 401 && client.state !== null) client.refreshUser().catch(() => {});
    return throwError(() => error);
  };
  return next(request).pipe(
    catchError((error: unknown) => {
      if (!(error instanceof HttpErrorResponse) || error.status !== 401 || errorCode(error) !== 'TOKEN_EXPIRED') return settle(error);
      return from(client.refresh()).pipe(
        // A refused refresh has already signed the client out; the caller gets the original 401.
        catchError(() => throwError(() => error)),
        // The retry goes through the rest of the chain again, so Angular's XSRF interceptor re-reads the cookie.
        switchMap(() => next(request).pipe(catchError(settle))),
      );
    }),
  );
};

/** Options for {@link authGuard} and {@link roleGuard}. */
export interface AuthGuardOptions {
  /** Where a signed-out visitor is sent. Default `/login`. The page they wanted is passed as `?returnTo=`. */
  readonly redirectTo?: string;
}

/** Options for {@link roleGuard}. */
export interface RoleGuardOptions extends AuthGuardOptions {
  /** Where a signed-in user without the role is sent. Default: nowhere (the navigation is cancelled). */
  readonly forbiddenRedirectTo?: string;
}

/**
 * Where a guard sends a visitor whose user could not be had: to sign in when
 * the server said "signed out" (a 401), nowhere (navigation cancelled) when it
 * could not be asked (offline, 5xx), since signing in would not help then.
 */
function refusal(error: unknown, router: Router, options: AuthGuardOptions, returnTo: string): UrlTree | false {
  if (!isAuthError(error) || error.status !== 401) return false;
  return router.createUrlTree([options.redirectTo ?? '/login'], { queryParams: { returnTo } });
}

/**
 * A `CanActivateFn` that lets signed-in users through and sends signed-out
 * visitors to the sign-in page. Fails closed: if the server cannot be asked
 * (offline, 5xx), the navigation is cancelled and the route does not open.
 *
 * @example
 * ```ts
 * { path: 'account', component: Account, canActivate: [authGuard({ redirectTo: '/login' })] }
 * ```
 */
export function authGuard(options: AuthGuardOptions = {}): CanActivateFn {
  return async (_route, state) => {
    const client = inject(GATEHOUSE_CLIENT);
    const router = inject(Router);
    try {
      await client.requireUser();
      return true;
    } catch (error) {
      return refusal(error, router, options, state.url);
    }
  };
}

/**
 * A `CanActivateFn` for users with `role`. Signed-out visitors go to the
 * sign-in page as with {@link authGuard}; signed-in users without the role go
 * to `forbiddenRedirectTo`, or stay where they are.
 *
 * @example
 * ```ts
 * { path: 'admin', component: Admin, canActivate: [roleGuard('admin', { forbiddenRedirectTo: '/' })] }
 * ```
 */
export function roleGuard(role: string, options: RoleGuardOptions = {}): CanActivateFn {
  return async (_route, state) => {
    const client = inject(GATEHOUSE_CLIENT);
    const router = inject(Router);
    let user: User;
    try {
      user = await client.requireUser();
    } catch (error) {
      return refusal(error, router, options, state.url);
    }
    if (user.roles.includes(role)) return true;
    return options.forbiddenRedirectTo === undefined ? false : router.parseUrl(options.forbiddenRedirectTo);
  };
}
