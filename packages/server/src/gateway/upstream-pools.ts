import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import type { GatewayRoute } from '../config/resolve.js';
import { GatehouseError } from '../core/errors.js';
import { publicLocation } from './route-table.js';
import { clientResponseHeaders } from './upstream-headers.js';

/** Most connections kept open to one upstream. */
const MAX_CONNECTIONS_PER_UPSTREAM = 128;

/** Response headers as undici parses them: repeated headers become arrays. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The error the browser gets when the upstream leg fails: 504 for a timeout,
 * 502 for anything else. Only the code crosses: the cause (addresses, the
 * upstream's words) stays in the server's log.
 */
export function upstreamError(cause: unknown): GatehouseError {
  const code = (cause as { code?: unknown } | null)?.code;
  return new GatehouseError(typeof code === 'string' && TIMEOUT_CODES.has(code) ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', { cause });
}

/** What one proxied request needs besides the Node request and response. */
export interface ProxyCall {
  readonly route: GatewayRoute;
  /** The path and query to ask the upstream for. */
  readonly path: string;
  /** undici's flat header list (see `upstreamRequestHeaders`). */
  readonly headers: string[];
  /** Cookies of the gateway's own to send with the answer (a refreshed or cleared session). */
  readonly setCookies: readonly string[];
  /** The caller is signed in: an answer that says nothing about caching is kept out of shared caches. */
  readonly personal: boolean;
}

/** The 101 answer the browser gets once the upstream has accepted a WebSocket upgrade. */
export interface UpgradedTunnel {
  readonly headers: UpstreamHeaders;
  readonly socket: Duplex;
}

/**
 * One undici connection pool per upstream (origin and connect timeout), so
 * connections are reused across requests and routes. Requests and responses
 * stream through with backpressure: undici reads the browser's body only as
 * fast as the upstream takes it, and the upstream's body is written to the
 * browser as it comes (so Server-Sent Events arrive unbuffered) and read no
 * faster than the browser drains it.
 */
export class UpstreamPools {
  /** By upstream origin and connect timeout: routes to one upstream share its connections. */
  readonly #pools = new Map<string, Pool>();
  /** The same pools by route, so a request costs one identity look-up rather than building a key. */
  #byRoute = new WeakMap<GatewayRoute, Pool>();

  #pool(route: GatewayRoute): Pool {
    const known = this.#byRoute.get(route);
    if (known !== undefined) return known;
    const upstream = route.upstream;
    if (upstream === undefined) throw new GatehouseError('NOT_FOUND');
    const key = `${upstream.origin} ${route.timeouts.connectSeconds}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Pool(upstream.origin, { connections: MAX_CONNECTIONS_PER_UPSTREAM, connect: { timeout: route.timeouts.connectSeconds * 1000 } });
      this.#pools.set(key, pool);
    }
    this.#byRoute.set(route, pool);
    return pool;
  }

  /**
   * Sends `req` to the route's upstream and streams the answer into `res`.
   * Rejects with a `GatehouseError` (502/504) when no answer could start; a
   * failure after the answer started cuts the connection, which is all HTTP
   * allows then.
   */
  async forward(req: IncomingMessage, res: ServerResponse, call: ProxyCall): Promise<void> {
    const { route } = call;
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    try {
      await this.#pool(route).stream(
        {
          path: call.path,
          method: req.method ?? 'GET',
          headers: call.headers,
          body: hasBody ? req : null,
          headersTimeout: route.timeouts.responseSeconds * 1000,
          bodyTimeout: route.timeouts.idleSeconds * 1000,
          // A POST is not retried on another connection: the upstream may have acted on it.
          idempotent: req.method === 'GET' || req.method === 'HEAD',
          opaque: res,
        },
        ({ statusCode, headers, opaque }) => {
          const answer = clientResponseHeaders(headers, route.cookies, call.setCookies);
          // An answer made for one user must not be served to another by a CDN or proxy cache.
          if (call.personal && answer['cache-control'] === undefined) answer['cache-control'] = 'private';
          // A redirect to the upstream's own (internal) address becomes the public path to the same place.
          const location = answer.location;
          if (typeof location === 'string') answer.location = publicLocation(route, location);
          opaque.writeHead(statusCode, answer);
          // An event stream may stay silent for a while: the browser gets its headers now, not with the first event.
          if (String(headers['content-type']).startsWith('text/event-stream')) opaque.flushHeaders();
          return opaque;
        },
      );
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      throw upstreamError(error);
    }
  }

  /** Asks the upstream to switch to WebSocket; rejects (502/504) when it does not answer 101. */
  async upgrade(route: GatewayRoute, path: string, headers: string[]): Promise<UpgradedTunnel> {
    try {
      const { headers: answer, socket } = await this.#pool(route).upgrade({ path, method: 'GET', headers, protocol: 'websocket' });
      return { headers: answer, socket };
    } catch (error) {
      throw upstreamError(error);
    }
  }

  /** Closes every pool; requests in flight are cut. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#byRoute = new WeakMap();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
