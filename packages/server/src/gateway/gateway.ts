import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import { NodeRequestView } from '../http/adapter-support.js';
import { sendWebResponse } from '../http/node.js';
import { errorResponse } from '../http/responses.js';
import { createDecisionHandler } from './decision.js';
import { IdentityTokens } from './identity-token.js';
import { checkRequestTarget, pathUnderPrefix } from './request-path.js';
import { RouteTable, upstreamTarget, type ActiveRoute } from './route-table.js';
import { credentialResolver, type ProviderTokenSource } from './upstream-credentials.js';
import { upstreamRequestHeaders, type ForwardedFacts } from './upstream-headers.js';
import { UpstreamPools } from './upstream-pools.js';
import { WebSocketTunnels } from './websocket.js';

export { IDENTITY_TOKEN_TYPE, IdentityTokens } from './identity-token.js';
export type { ProviderTokenSource } from './upstream-credentials.js';

/** A Node request handler, the shape `createNodeServer`'s `fallback` takes. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /**
   * Where routes with `forward: "provider-token"` get the provider's access
   * token. Default: `gatehouse.providerTokens`, present when OpenID Connect
   * providers are configured.
   */
  readonly providerTokens?: ProviderTokenSource;
}

/** The gateway mounted on a Node server: see {@link createGateway}. */
export interface Gateway {
  /**
   * Answers gateway routes and the decision endpoint; passes every other
   * request to `next` (the SPA's files, or a JSON 404).
   */
  handler(next: NodeHandler): NodeHandler;
  /** For the server's `upgrade` event: proxies WebSocket handshakes on routes that allow them, refuses the rest. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cuts open WebSocket tunnels and closes the upstream connection pools. */
  close(): Promise<void>;
}

/**
 * The gateway (backend-for-frontend) for `config.gateway`: every request
 * under a route prefix passes the route's guard (session, roles, CSRF and
 * Origin for unsafe methods under cookies), then goes to its upstream with a
 * short-lived identity token in `Authorization` and none of the browser's
 * credentials. Requests whose path holds a trick are refused (400
 * `PATH_REJECTED`); those that match no route never leave.
 *
 * Loads undici, so import it only when routes are configured (`gatehouse
 * serve` does). Throws `CONFIG_INVALID` when a route needs something missing.
 *
 * @example
 * ```ts
 * const gateway = await createGateway(gatehouse);
 * const server = createNodeServer(gatehouse, { fallback: gateway.handler(createStaticHandler('dist')) });
 * server.on('upgrade', gateway.upgrade);
 * ```
 */
export async function createGateway(gatehouse: Gatehouse, options: GatewayOptions = {}): Promise<Gateway> {
  const { config } = gatehouse;
  const { gateway: settings } = config;
  const identities =
    gatehouse.signingKeys === null
      ? null
      : new IdentityTokens(gatehouse.signingKeys, { issuer: config.accessToken.issuer, ttlSeconds: settings.identity.ttlSeconds }, gatehouse.clock);
  // OpenID Connect sign-in keeps the provider's tokens; a route may forward them instead of an identity.
  const providerTokens = options.providerTokens ?? gatehouse.providerTokens;
  const routes: ActiveRoute[] = settings.routes.map((route, index) => ({
    config: route,
    guard: gatehouse.guard({ roles: route.roles, allowAnonymous: route.auth === 'optional', transparentRefresh: route.transparentRefresh }),
    credentials: credentialResolver(route, index, { identities, providerTokens }),
    headerRules: { csrfHeaderName: config.csrfHeaderName, cookies: route.cookies },
  }));
  const table = new RouteTable(routes);
  const pools = new UpstreamPools();
  const publicURL = new URL(config.publicOrigin);
  const proto = publicURL.protocol.slice(0, -1);
  const host = publicURL.host;
  const decide = settings.decisionPath === undefined ? undefined : createDecisionHandler(gatehouse, table, settings.decisionPath);
  const tunnels = new WebSocketTunnels(gatehouse, table, pools, { proto, host });

  const send = (res: ServerResponse, error: unknown, cookies: readonly string[] = []): Promise<void> =>
    sendWebResponse(res, errorResponse(error, { cookies }));

  async function proxy(req: IncomingMessage, res: ServerResponse, next: NodeHandler): Promise<void> {
    const raw = req.url ?? '/';
    if (decide !== undefined && pathUnderPrefix(rawPath(raw), settings.decisionPath ?? '')) return decide(req, res);
    const target = checkRequestTarget(raw);
    if (target === null) return send(res, new GatehouseError('PATH_REJECTED'));
    const route = table.match(target.path);
    if (route?.config.upstream === undefined) return next(req, res);
    // Node's parser refuses both together already; this keeps a lenient parser from ever forwarding one.
    if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] !== undefined) {
      return send(res, new GatehouseError('MALFORMED_REQUEST'));
    }
    const view = new NodeRequestView(req, gatehouse);
    const answer = route.guard.check(view, view);
    const outcome = answer instanceof Promise ? await answer : answer;
    if (!outcome.ok) return send(res, outcome.error, outcome.setCookies);
    let authorization: string | undefined;
    try {
      const credential = route.credentials(outcome.auth);
      authorization = typeof credential === 'object' ? await credential : credential;
    } catch (error) {
      return send(res, error, outcome.setCookies);
    }
    const facts: ForwardedFacts = {
      clientIP: view.ip,
      proto,
      host,
      prefix: route.config.stripPrefix ? route.config.prefix : undefined,
      authorization,
    };
    const headers = upstreamRequestHeaders(req.rawHeaders, req.headers, route.headerRules, facts);
    try {
      await pools.forward(req, res, { route: route.config, path: upstreamTarget(route.config, target), headers, setCookies: outcome.setCookies, personal: outcome.auth !== null });
    } catch (error) {
      gatehouse.logger.warn({ err: (error as GatehouseError).cause ?? error, route: route.config.prefix }, 'upstream request failed');
      return send(res, error, outcome.setCookies);
    }
  }

  return {
    handler: (next) => (req, res) => proxy(req, res, next),
    upgrade: (req, socket, head) => tunnels.open(req, socket, head),
    async close() {
      tunnels.close();
      await pools.close();
    },
  };
}

/** The path part of a raw target, before any `?`. */
function rawPath(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
