import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import { NodeRequestView } from '../http/adapter-support.js';
import { SECURITY_HEADERS } from '../http/responses.js';
import { checkRequestTarget } from './request-path.js';
import { upstreamTarget, type RouteTable } from './route-table.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './upstream-headers.js';
import type { UpstreamPools } from './upstream-pools.js';

/** How often open tunnels are checked against the revocation list. */
const REVOCATION_SWEEP_MS = 1000;

interface Tunnel {
  readonly client: Duplex;
  readonly upstream: Duplex;
  readonly sessionId: string | undefined;
  readonly userId: string | undefined;
  /** The user version the handshake's token described: a change to the user after it (roles, password, disabled) ends the tunnel. */
  readonly userVersion: number;
  /** The session's absolute expiry (ms): no tunnel outlives its session. */
  readonly endsAt: number;
}

/** Writes a JSON error as the whole answer to a handshake and closes the connection. */
function refuse(socket: Duplex, error: unknown): void {
  const known = isGatehouseError(error) ? error : new GatehouseError('INTERNAL_ERROR', { cause: error });
  const message = known.expose ? known.message : new GatehouseError(known.code).message;
  const body = JSON.stringify({ error: { code: known.code, message } });
  const headers = { ...SECURITY_HEADERS, ...known.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close' };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${known.status} ${STATUS_CODES[known.status] ?? ''}\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * WebSocket upgrades through the gateway. A handshake is an HTTP `GET`, so
 * CSRF tokens do not apply; what stops cross-site WebSocket hijacking is the
 * `Origin` check: a browser always sends `Origin` on a handshake, and it must
 * be one of `trustedOrigins`. Only a caller with `Authorization: Bearer`
 * (not a browser: browsers cannot set it on a WebSocket) may omit it. Then the
 * route's guard runs as for any request, the upstream gets the identity token,
 * and bytes flow both ways untouched. Tunnels of a session that is revoked
 * later are cut within a second.
 */
export class WebSocketTunnels {
  readonly #gatehouse: Gatehouse;
  readonly #table: RouteTable;
  readonly #pools: UpstreamPools;
  readonly #facts: { readonly proto: string; readonly host: string };
  readonly #open = new Set<Tunnel>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(gatehouse: Gatehouse, table: RouteTable, pools: UpstreamPools, facts: { readonly proto: string; readonly host: string }) {
    this.#gatehouse = gatehouse;
    this.#table = table;
    this.#pools = pools;
    this.#facts = facts;
  }

  /** How many tunnels are open (for tests and metrics). */
  get size(): number {
    return this.#open.size;
  }

  /** Handles one `upgrade` event; never throws. */
  open(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    this.#handshake(req, socket, head).catch((error: unknown) => {
      if (!isGatehouseError(error)) this.#gatehouse.logger.error({ err: error }, 'websocket handshake failed');
      else if (error.status >= 500) this.#gatehouse.logger.warn({ err: error.cause ?? error }, 'websocket upstream failed');
      if (!socket.destroyed) refuse(socket, error);
    });
  }

  /** Cuts every tunnel. */
  close(): void {
    for (const tunnel of this.#open) this.#cut(tunnel);
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  async #handshake(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config } = this.#gatehouse;
    if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      // Other protocols (h2c above all) could carry requests past the gateway's checks.
      // A WebSocket handshake is a GET, the one method an upgrade may use here.
      throw new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: 'GET' } });
    }
    const target = checkRequestTarget(req.url ?? '/');
    if (target === null) throw new GatehouseError('PATH_REJECTED');
    const route = this.#table.match(target.path);
    if (route === undefined || route.config.upstream === undefined || !route.config.websocket) throw new GatehouseError('NOT_FOUND');
    const origin = req.headers.origin;
    if (origin === undefined ? req.headers.authorization === undefined : !config.trustedOrigins.includes(origin)) {
      throw new GatehouseError('ORIGIN_REJECTED');
    }
    const view = new NodeRequestView(req, this.#gatehouse);
    const verdict = route.guard.check(view, view);
    const outcome = verdict instanceof Promise ? await verdict : verdict;
    if (!outcome.ok) throw outcome.error;
    const authorization = await route.credentials(outcome.auth);
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      req.headers,
      route.headerRules,
      { clientIP: view.ip, ...this.#facts, prefix: route.config.stripPrefix ? route.config.prefix : undefined, authorization },
    );
    // One store read per handshake (never per message): the absolute end of the session this socket rides on.
    const session = outcome.auth === null ? null : await this.#gatehouse.store.findSession(outcome.auth.sessionId);
    if (outcome.auth !== null && (session === null || session.revokedAt !== null)) throw new GatehouseError('SESSION_REVOKED');
    const endsAt = session?.absoluteExpiresAt ?? Number.POSITIVE_INFINITY;
    const upgraded = await this.#pools.upgrade(route.config, upstreamTarget(route.config, target), headers);
    const upstream = upgraded.socket;
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    const answer = clientResponseHeaders(upgraded.headers, route.config.cookies, outcome.setCookies);
    let lines = 'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n';
    for (const [name, value] of Object.entries(answer)) {
      for (const one of Array.isArray(value) ? value : [value]) lines += `${name}: ${one}\r\n`;
    }
    socket.write(`${lines}\r\n`);
    if (head.length > 0) upstream.write(head);
    const tunnel: Tunnel = { client: socket, upstream, sessionId: outcome.auth?.sessionId, userId: outcome.auth?.user.id, userVersion: outcome.auth?.userVersion ?? -1, endsAt };
    this.#open.add(tunnel);
    const cut = (): void => this.#cut(tunnel);
    upstream.on('error', cut).on('close', cut);
    socket.on('close', cut);
    socket.pipe(upstream);
    upstream.pipe(socket);
    this.#startSweep();
  }

  #cut(tunnel: Tunnel): void {
    if (!this.#open.delete(tunnel)) return;
    tunnel.client.destroy();
    tunnel.upstream.destroy();
    if (this.#open.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  /**
   * While tunnels are open: cut those whose session was revoked, or whose
   * user changed (roles, password, disabled), since they opened, and those whose session
   * reached its absolute expiry.
   */
  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setInterval(() => {
      const now = this.#gatehouse.clock.now();
      for (const tunnel of this.#open) {
        if (tunnel.sessionId === undefined || tunnel.userId === undefined) continue;
        if (now >= tunnel.endsAt) {
          this.#cut(tunnel);
          continue;
        }
        const status = this.#gatehouse.revocations.check(tunnel.sessionId, tunnel.userId, tunnel.userVersion);
        if (status === 'revoked' || status === 'stale') this.#cut(tunnel);
      }
    }, REVOCATION_SWEEP_MS);
    this.#sweep.unref();
  }
}
