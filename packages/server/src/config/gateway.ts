import { z } from 'zod';

/**
 * The `gateway` section of the configuration: routes from a path prefix to an
 * upstream, and how the identity of the caller is forwarded. Validated with the
 * rest of the configuration at start; the checks that need other sections
 * (signing algorithm, cookie names, audience) are in {@link gatewayProblems}.
 */

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** `/` or `/seg/seg…`: unreserved characters only, no empty or dot-ending segment, no trailing slash. */
const PREFIX = /^\/(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?<!\.)(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?<!\.))*)?$/;

const pathPrefix = z
  .string()
  .regex(PREFIX, 'must be "/" or a path such as /api/orders: letters, digits and - . _ ~ in each segment, no segment empty or ending in ".", no trailing slash')
  .refine((p) => !isReservedPath(p), 'must not be /auth, /.well-known or a path under them: Gatehouse answers those itself');

/** Paths the engine answers; a route there would never be reached, or would shadow Gatehouse. */
function isReservedPath(path: string): boolean {
  const lower = path.toLowerCase();
  return ['/auth', '/.well-known'].some((reserved) => lower === reserved || lower.startsWith(`${reserved}/`));
}

const upstreamURL = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http: or https: URL such as http://orders.internal:8081/v1' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must use http: or https:' });
    return z.NEVER;
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    ctx.addIssue({ code: 'custom', message: 'must have no credentials, query or fragment' });
    return z.NEVER;
  }
  // Judged as written: the URL parser would quietly resolve `/v1/%2e%2e/x` to `/x`.
  const basePath = value.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/, '').replace(/\/+$/, '');
  if (basePath !== '' && !PREFIX.test(basePath)) {
    ctx.addIssue({ code: 'custom', message: 'its path may hold letters, digits and - . _ ~ only, with no empty or dot-ending segment' });
    return z.NEVER;
  }
  return { origin: url.origin, basePath };
});

const roleName = z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits or : . _ -');
const cookieName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a valid cookie name (RFC 6265 token, at most 64 characters)');

const TIMEOUT_DEFAULTS = { connectSeconds: 5, responseSeconds: 30, idleSeconds: 300 };

const routeSchema = z.strictObject({
  /** Requests whose path is this prefix or lies under it go to this route. */
  prefix: pathPrefix,
  /** Where to send them. Without it the route serves only the decision endpoint (nginx, Traefik, Envoy). */
  upstream: upstreamURL.optional(),
  /** The `aud` of the forwarded identity: what the upstream checks. */
  audience: z.string().min(1).max(256),
  /** `required`: 401 without a session. `optional`: anonymous requests pass, without an identity. */
  auth: z.enum(['required', 'optional']).default('required'),
  /** Every listed role is required (403 otherwise). */
  roles: z.array(roleName).max(32).default([]),
  /** Send `/api/orders/7` to the upstream as `/7` (plus the upstream URL's own path). */
  stripPrefix: z.boolean().default(false),
  /** What the upstream gets in `Authorization`: Gatehouse's identity token, or the OpenID provider's access token. */
  forward: z.enum(['identity', 'provider-token']).default('identity'),
  /** Proxy WebSocket upgrades on this route. */
  websocket: z.boolean().default(false),
  /**
   * An expired access token is refreshed inline and the new cookies ride on the
   * answer, for clients that cannot retry after a 401 (EventSource, WebSocket).
   * Needs `cookies.refreshPath: "/"`.
   */
  transparentRefresh: z.boolean().default(false),
  /** Cookies (by name) the browser and the upstream may exchange through this route; all others are dropped both ways. */
  cookies: z.array(cookieName).max(32).default([]),
  timeouts: z
    .strictObject({
      connectSeconds: seconds(1, 60).default(TIMEOUT_DEFAULTS.connectSeconds),
      /** Until the upstream's response headers have arrived. */
      responseSeconds: seconds(1, 3600).default(TIMEOUT_DEFAULTS.responseSeconds),
      /** Longest silence while a body streams (Server-Sent Events need it long); 0: no limit. */
      idleSeconds: seconds(0, 86400).default(TIMEOUT_DEFAULTS.idleSeconds),
    })
    .default(TIMEOUT_DEFAULTS),
});

export const gatewaySchema = z
  .object({
    /** Path prefix → upstream; the longest matching prefix wins, and a path that matches none never leaves Gatehouse. */
    routes: z.array(routeSchema).max(1000).default([]),
    identity: z
      .object({
        /** Lifetime of a forwarded identity token. */
        ttlSeconds: seconds(10, 60).default(60),
      })
      .strict()
      .default({ ttlSeconds: 60 }),
    /** Where the decision endpoint for nginx `auth_request`, Traefik `forwardAuth` and Envoy `ext_authz` listens. Unset: none. */
    decisionPath: pathPrefix.refine((p) => p !== '/', 'must not be "/"').optional(),
  })
  .strict()
  .default({ routes: [], identity: { ttlSeconds: 60 } });

/** One route after validation. */
export interface GatewayRoute {
  readonly prefix: string;
  /** The upstream's origin and the path its URL carried (`''` or `/v1`); undefined for a decision-only route. */
  readonly upstream: { readonly origin: string; readonly basePath: string } | undefined;
  readonly audience: string;
  readonly auth: 'required' | 'optional';
  readonly roles: readonly string[];
  readonly stripPrefix: boolean;
  readonly forward: 'identity' | 'provider-token';
  readonly websocket: boolean;
  readonly transparentRefresh: boolean;
  readonly cookies: readonly string[];
  readonly timeouts: { readonly connectSeconds: number; readonly responseSeconds: number; readonly idleSeconds: number };
}

/** The gateway section after validation. */
export interface GatewayConfig {
  readonly routes: readonly GatewayRoute[];
  readonly identity: { readonly ttlSeconds: number };
  readonly decisionPath: string | undefined;
}

/** What {@link gatewayProblems} compares the routes with. */
export interface GatewayContext {
  readonly signingAlgorithm: string;
  readonly accessTokenAudience: string;
  readonly cookieNames: readonly string[];
  readonly refreshCookiePath: string;
}

/**
 * The gateway's rules that involve other sections, as `field: problem` lines:
 * forwarded identities need keys that `/.well-known/jwks.json` publishes (so
 * not HS256); a route's audience must not be the access tokens' own; the
 * browser's Gatehouse cookies never pass to an upstream.
 */
export function gatewayProblems(gateway: GatewayConfig, context: GatewayContext): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const forwardsIdentity = gateway.decisionPath !== undefined || gateway.routes.some((r) => r.forward === 'identity');
  if (forwardsIdentity && context.signingAlgorithm === 'HS256') {
    problems.push(
      'gateway.routes: forwarding an identity to upstreams needs keys they can verify at /.well-known/jwks.json; set signing.algorithm to EdDSA, ES256 or RS256 (HS256 keys are secret and never published)',
    );
  }
  if (gateway.decisionPath !== undefined && gateway.routes.some((r) => r.prefix !== '/' && pathOverlaps(r.prefix, gateway.decisionPath ?? ''))) {
    problems.push('gateway.decisionPath: must not lie under a route prefix, nor a route under it');
  }
  for (const [i, route] of gateway.routes.entries()) {
    const field = `gateway.routes.${i}`;
    const key = route.prefix.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push(`${field}.prefix: ${route.prefix} is already the prefix of gateway.routes.${earlier}`);
    seen.set(key, i);
    if (route.audience === context.accessTokenAudience) {
      problems.push(`${field}.audience: must differ from accessToken.audience, so an upstream never accepts Gatehouse's access tokens`);
    }
    if (route.transparentRefresh && context.refreshCookiePath !== '/') {
      problems.push(`${field}.transparentRefresh: needs cookies.refreshPath "/", so the refresh cookie reaches the route`);
    }
    if (route.auth === 'optional' && route.roles.length > 0) problems.push(`${field}.roles: need auth "required" (anonymous requests have no roles)`);
    if (route.upstream === undefined && (route.websocket || route.stripPrefix)) {
      problems.push(`${field}.upstream: needed for ${route.websocket ? 'websocket' : 'stripPrefix'}`);
    }
    for (const name of route.cookies) {
      // The configured names, and every gh_ name (the OpenID Connect transaction cookies, cookies to come).
      if (context.cookieNames.includes(name) || /^(?:__Host-|__Secure-)?gh_/i.test(name)) {
        problems.push(`${field}.cookies: ${name} is a Gatehouse cookie; it never reaches an upstream`);
      }
    }
  }
  return problems;
}

function pathOverlaps(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

/** The parsed section in its resolved shape. */
export function toGatewayConfig(parsed: z.output<typeof gatewaySchema>): GatewayConfig {
  return {
    // `upstream` is always present in the resolved shape, undefined when absent.
    routes: parsed.routes.map((route) => ({ ...route, upstream: route.upstream })),
    identity: parsed.identity,
    decisionPath: parsed.decisionPath,
  };
}
