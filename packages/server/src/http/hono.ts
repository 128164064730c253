/**
 * Gatehouse on Hono: `app.use(honoAuth(gatehouse))` answers `/auth/*`,
 * `honoGuard(gatehouse, options)` protects a route and sets `c.get('auth')`.
 * Hono speaks Web `Request`/`Response` like the engine, so nothing is
 * converted. Hono is a peer dependency used for its types only: importing this
 * module loads no Hono code.
 *
 * @packageDocumentation
 */
import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import { answerAuthRequest, isEnginePath, LazyClientContext, NodeRequestView } from './adapter-support.js';
import { isAmbiguousTarget, targetOfURL } from './exact-path.js';
import type { Auth, GuardOptions, GuardOutcome } from './guard.js';
import { errorResponse } from './responses.js';

/** The context variables Gatehouse sets: `c.get('auth')`. */
export interface GatehouseVariables {
  /** Who is calling, or `null` for an anonymous request the guard allowed (`allowAnonymous`). */
  auth: Auth | null;
}

/** A Hono environment with {@link GatehouseVariables}: `new Hono<GatehouseEnv>()`. */
export interface GatehouseEnv {
  Variables: GatehouseVariables;
}

export interface HonoAdapterOptions {
  /**
   * The TCP peer's address, for login throttling, the session list and
   * `trustProxy`. Default: the socket of `@hono/node-server` (`c.env.incoming`);
   * on other runtimes pass your runtime's `getConnInfo(c).remote.address`.
   * Given this, the guard reads the Web `Request` (`c.req.raw`) rather than
   * Node's request, whatever the runtime.
   */
  readonly remoteAddress?: (c: Context) => string | undefined;
}

/**
 * The Node request under `@hono/node-server`, which passes `{ incoming, outgoing }`
 * as the environment; undefined on other runtimes.
 */
function nodeIncoming(c: Context): IncomingMessage | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  const incoming: unknown = env.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

function nodeServerRemoteAddress(c: Context): string | undefined {
  return nodeIncoming(c)?.socket.remoteAddress;
}

/**
 * The request target as the client sent it: Node's own `req.url` under
 * `@hono/node-server` (its Web `Request` has dot segments resolved already);
 * elsewhere the runtime's URL, which is all there is.
 */
function rawTarget(c: Context): string {
  return nodeIncoming(c)?.url ?? targetOfURL(c.req.url);
}

function clientOf(gatehouse: Gatehouse, c: Context, options: HonoAdapterOptions): LazyClientContext {
  const remoteAddress = options.remoteAddress ?? nodeServerRemoteAddress;
  return new LazyClientContext(gatehouse, c.req.raw.headers, () => remoteAddress(c));
}

/**
 * Middleware that answers every request under `/auth` (`/auth`, `/auth/…`)
 * with Gatehouse and passes everything else on.
 *
 * @example
 * ```ts
 * const app = new Hono<GatehouseEnv>();
 * app.use(honoAuth(gatehouse));
 * ```
 */
export function honoAuth(gatehouse: Gatehouse, options: HonoAdapterOptions = {}): MiddlewareHandler {
  return async function gatehouseAuth(c, next) {
    if (!isEnginePath(gatehouse, c.req.path)) return next();
    // The method is checked before `c.req.raw` is touched: a Web Request cannot carry TRACE.
    return answerAuthRequest(gatehouse, c.req.method, rawTarget(c), () => c.req.raw, clientOf(gatehouse, c, options));
  };
}

/**
 * Middleware that lets a request through only when the guard allows it, and
 * sets `c.get('auth')` for the handlers after it. A refused request is
 * answered here (401/403 JSON, the same body as every Gatehouse error; 503 if
 * a transparent refresh finds the store down); cookies the guard sets are
 * added to the response either way. Build guards once, at start-up.
 *
 * @example
 * ```ts
 * app.get('/api/me', honoGuard(gatehouse), (c) => c.json({ user: c.get('auth')?.user }));
 * ```
 */
export function honoGuard(gatehouse: Gatehouse, options?: GuardOptions & HonoAdapterOptions): MiddlewareHandler<GatehouseEnv> {
  const check = gatehouse.guard(options).check;
  const adapterOptions: HonoAdapterOptions = { remoteAddress: options?.remoteAddress };
  return async function gatehouseGuard(c, next) {
    // Paths are exact: a guarded route never answers a spelling that could be read as another path.
    if (isAmbiguousTarget(rawTarget(c))) return errorResponse(new GatehouseError('NOT_FOUND'));
    // On @hono/node-server, read Node's header object in place: `c.req.raw.headers`
    // would build a Web Headers copy of every header on each request.
    const incoming = adapterOptions.remoteAddress === undefined ? nodeIncoming(c) : undefined;
    const view = incoming === undefined ? undefined : new NodeRequestView(incoming, gatehouse);
    let outcome: GuardOutcome;
    try {
      const answer = view === undefined ? check(c.req.raw, clientOf(gatehouse, c, adapterOptions)) : check(view, view);
      // Awaited only when it is a Promise (a transparent refresh): a ready verdict costs no microtask.
      outcome = answer instanceof Promise ? await answer : answer;
    } catch (error) {
      // Only a transparent refresh can get here (the store failed): fail closed, in Gatehouse's JSON.
      if (!isGatehouseError(error) || error.status >= 500) gatehouse.logger.error({ err: error }, 'guard failed');
      return errorResponse(error);
    }
    if (!outcome.ok) return errorResponse(outcome.error, { cookies: outcome.setCookies });
    for (const cookie of outcome.setCookies) c.header('set-cookie', cookie, { append: true });
    c.set('auth', outcome.auth);
    return next();
  };
}

export type { Auth, GuardOptions } from './guard.js';
export { honoSignatureGuard, type SignatureEnv, type SignatureVariables } from '../signatures/hono-guard.js';
export type { SignatureGuardOptions } from '../signatures/guard.js';
export { honoPartnerGuard, type PartnerEnv, type PartnerVariables } from '../partners/hono-guard.js';
export type { PartnerGuardOptions } from '../partners/partner-gate.js';
export type { PartnerIdentity } from '../partners/partner-registry.js';
