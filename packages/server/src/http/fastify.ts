/**
 * Gatehouse on Fastify 5: `app.register(gatehouseFastify, { gatehouse })`
 * answers `/auth/*` and declares `request.auth`; `fastifyGuard(gatehouse, options)`
 * is an `onRequest` hook that protects a route. Fastify is a peer dependency
 * used for its types only: importing this module loads no Fastify code.
 *
 * @packageDocumentation
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, HTTPMethods, onRequestAsyncHookHandler, onRequestHookHandler } from 'fastify';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import { NodeRequestView, responseParts } from './adapter-support.js';
import type { Auth, GuardOptions, GuardOutcome } from './guard.js';
import { isAmbiguousTarget } from './exact-path.js';
import { nodeAuthResponse } from './node.js';
import { errorResponse } from './responses.js';
import { JWKS_PATH } from './jwks-route.js';
import { METADATA_PATH } from '../oauth/oauth-paths.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set by {@link fastifyGuard}: who is calling, or `null` for an anonymous
     * request the guard allowed (`allowAnonymous`), and on routes without a guard.
     */
    auth: Auth | null;
  }
}

export interface GatehouseFastifyOptions {
  readonly gatehouse: Gatehouse;
}

/** Every method a route under `/auth` answers; the engine itself says 405 for the ones it does not support. */
const AUTH_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

async function sendResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  const { status, headers, cookies, body } = await responseParts(response);
  reply.code(status).headers(headers);
  if (cookies.length > 0) reply.header('set-cookie', cookies);
  return reply.send(body ?? undefined);
}

/**
 * The plugin: declares `request.auth` for the whole application (it is not
 * encapsulated) and adds the `/auth`, `/auth/*` and `/.well-known/jwks.json` routes. Those answer in
 * `onRequest`, before Fastify parses a body, because the engine reads and
 * validates its own bodies. Register it at the root, without a prefix.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(gatehouseFastify, { gatehouse });
 * app.get('/api/me', { onRequest: fastifyGuard(gatehouse) }, async (request) => ({ user: request.auth?.user }));
 * ```
 */
export async function gatehouseFastify(app: FastifyInstance, options: GatehouseFastifyOptions): Promise<void> {
  const { gatehouse } = options;
  app.decorateRequest('auth', null);
  const answer: onRequestAsyncHookHandler = async (request, reply) => {
    return sendResponse(reply, await nodeAuthResponse(gatehouse, request.raw, request.raw.url ?? request.url));
  };
  const unreachable = async (): Promise<void> => {
    throw new Error('the /auth onRequest hook always answers');
  };
  const oauthPaths = gatehouse.config.oauth.enabled ? ['/oauth/*', METADATA_PATH] : [];
  for (const url of ['/auth', '/auth/*', JWKS_PATH, ...oauthPaths]) {
    app.route({ method: AUTH_METHODS, url, onRequest: answer, handler: unreachable, exposeHeadRoute: false });
  }
}

// What `fastify-plugin` would do, without depending on it: run in the caller's
// context so that the `request.auth` decoration is visible to every route.
Object.assign(gatehouseFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@gatehouse/server/fastify',
  [Symbol.for('plugin-meta')]: { name: '@gatehouse/server/fastify', fastify: '5.x' },
});

/**
 * An `onRequest` hook that lets a request through only when the guard allows
 * it, and sets `request.auth`. It runs before the body is parsed, so a refused
 * request costs no parsing. A refused request is answered here (401/403 JSON,
 * the same body as every Gatehouse error; 503 if a transparent refresh finds
 * the store down); cookies the guard sets are added to the reply either way.
 * Build guards once, at start-up.
 *
 * @example
 * ```ts
 * app.post('/api/orders', { onRequest: fastifyGuard(gatehouse, { allowAnonymous: true }) }, createOrder);
 * app.get('/api/admin', { onRequest: fastifyGuard(gatehouse, { roles: ['admin'] }) }, adminPage);
 * ```
 */
export function fastifyGuard(gatehouse: Gatehouse, options?: GuardOptions): onRequestHookHandler {
  const check = gatehouse.guard(options).check;
  const settle = (outcome: GuardOutcome, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (outcome.setCookies.length > 0) reply.header('set-cookie', [...outcome.setCookies]);
    if (!outcome.ok) {
      void sendResponse(reply, errorResponse(outcome.error)); // answered here: `done` is not called
      return;
    }
    request.auth = outcome.auth;
    done();
  };
  // A callback-style hook: a verdict that is ready (nearly always) lets Fastify go on at once, with no Promise to wait for.
  return function gatehouseGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // Paths are exact: a guarded route never answers a spelling that could be read as another path.
    if (isAmbiguousTarget(request.raw.url ?? request.url)) return void sendResponse(reply, errorResponse(new GatehouseError('NOT_FOUND')));
    const view = new NodeRequestView(request.raw, gatehouse);
    const answer = check(view, view);
    if (!(answer instanceof Promise)) return settle(answer, request, reply, done);
    answer.then(
      (outcome) => settle(outcome, request, reply, done),
      (error: unknown) => {
        // Only a transparent refresh can get here (the store failed): fail closed, in Gatehouse's JSON.
        if (!isGatehouseError(error) || error.status >= 500) gatehouse.logger.error({ err: error }, 'guard failed');
        void sendResponse(reply, errorResponse(error));
      },
    );
  };
}

export type { Auth, GuardOptions } from './guard.js';
export { fastifySignatureGuard } from '../signatures/fastify-guard.js';
export type { SignatureGuardOptions } from '../signatures/guard.js';
export { fastifyPartnerGuard } from '../partners/fastify-guard.js';
export type { PartnerGuardOptions } from '../partners/partner-gate.js';
export type { PartnerIdentity } from '../partners/partner-registry.js';
