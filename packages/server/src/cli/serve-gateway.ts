import type { Server } from 'node:http';
import { GatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import type { NodeHandler } from '../gateway/gateway.js';
import { sendError } from '../http/node.js';

/** What `gatehouse serve` mounts besides `/auth`: the gateway's routes (when configured) in front of the SPA's files. */
export interface ServedRoutes {
  /** The server's handler for everything outside `/auth`, or undefined for a JSON 404. */
  readonly fallback: NodeHandler | undefined;
  /** Hands the server's WebSocket upgrades to the gateway. */
  attach(server: Server): void;
  /** Cuts WebSocket tunnels and closes upstream connections: before the server closes, which they would hold open. */
  close(): Promise<void>;
}

/**
 * The gateway when `gateway.routes` or `gateway.decisionPath` is configured,
 * loaded only then (it brings undici with it); otherwise just `files`.
 * Throws `CONFIG_INVALID` when a route needs something missing.
 */
export async function openServedRoutes(gatehouse: Gatehouse, files: NodeHandler | undefined): Promise<ServedRoutes> {
  const { routes, decisionPath } = gatehouse.config.gateway;
  if (routes.length === 0 && decisionPath === undefined) return { fallback: files, attach: () => undefined, close: async () => undefined };
  const { createGateway } = await import('../gateway/gateway.js');
  const gateway = await createGateway(gatehouse);
  gatehouse.logger.info({ routes: routes.map((r) => r.prefix), decisionPath }, 'gateway routes mounted');
  return {
    fallback: gateway.handler(files ?? ((_req, res) => sendError(res, new GatehouseError('NOT_FOUND')))),
    attach: (server) => void server.on('upgrade', gateway.upgrade),
    close: () => gateway.close(),
  };
}
