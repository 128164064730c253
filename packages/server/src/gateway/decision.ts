import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import type { GuardRequest } from '../http/guard.js';
import { NodeRequestView } from '../http/adapter-support.js';
import { sendWebResponse } from '../http/node.js';
import { jsonResponse } from '../http/responses.js';
import { checkRequestTarget } from './request-path.js';
import type { RouteTable } from './route-table.js';

/**
 * The decision endpoint for proxies that keep the traffic themselves: nginx
 * `auth_request`, Traefik `forwardAuth`, Envoy's HTTP `ext_authz`. The proxy
 * asks about the browser's request; the answer is 200 with identity headers
 * (among them `Authorization: Bearer <identity token>` for the route's
 * audience) or 401/403 with a JSON error, and the proxy acts on it.
 *
 * Which request is being judged comes from the proxy: Envoy appends the
 * original path to the endpoint's path; nginx sends `X-Original-URI` and
 * `X-Original-Method` (as the documented config sets them); Traefik sends
 * `X-Forwarded-Uri` and `X-Forwarded-Method`. Those headers are believed only
 * from a peer listed in `trustProxy` (others get 403 `PROXY_UNTRUSTED`), and
 * even then a browser may have added one the proxy does not overwrite — the
 * 2026 oauth2-proxy bypass. So every source present must agree: two different
 * URIs, or a method header that makes an unsafe request look safe, are 403.
 */

/** Identity headers of a 200 answer; the proxy copies them to the upstream request. */
export const DECISION_HEADERS = {
  authorization: 'authorization',
  subject: 'x-gatehouse-subject',
  username: 'x-gatehouse-username',
  roles: 'x-gatehouse-roles',
  session: 'x-gatehouse-session',
} as const;

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const METHOD = /^[A-Z]{1,16}$/;

/** The decision as the proxy needs it: 401 stays 401, every other refusal is 403 (nginx treats other codes as its own failure). */
function deny(error: unknown, cookies: readonly string[] = []): Response {
  const known = isGatehouseError(error) ? error : new GatehouseError('INTERNAL_ERROR', { cause: error });
  const status = known.status === 401 ? 401 : 403;
  return jsonResponse(status, { error: { code: known.code, message: known.expose ? known.message : new GatehouseError(known.code).message } }, { cookies });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The original request's method and target, or a refusal when the sources disagree or say nothing. */
function originalRequest(req: IncomingMessage, decisionPath: string): { method: string; target: string } | GatehouseError {
  const raw = req.url ?? '/';
  const suffix = raw.slice(decisionPath.length);
  const targets = [suffix.startsWith('/') ? suffix : undefined, header(req, 'x-original-uri'), header(req, 'x-forwarded-uri')];
  const present = [...new Set(targets.filter((t) => t !== undefined))];
  if (present.length !== 1) return new GatehouseError('MALFORMED_REQUEST', { message: 'Exactly one original request URI is needed.' });
  const ownMethod = (req.method ?? 'GET').toUpperCase();
  const claimed = [...new Set([header(req, 'x-original-method'), header(req, 'x-forwarded-method')].filter((m) => m !== undefined).map((m) => m.toUpperCase()))];
  if (claimed.length > 1) return new GatehouseError('MALFORMED_REQUEST', { message: 'The original method headers disagree.' });
  const method = claimed[0] ?? ownMethod;
  // A header may make a safe-looking subrequest unsafe (Traefik asks with GET), never the reverse.
  if (!METHOD.test(method) || (!SAFE.has(ownMethod) && method !== ownMethod)) {
    return new GatehouseError('MALFORMED_REQUEST', { message: 'The original method is not acceptable.' });
  }
  return { method, target: present[0] as string };
}

/** Builds the handler for requests under `decisionPath`. */
export function createDecisionHandler(
  gatehouse: Gatehouse,
  table: RouteTable,
  decisionPath: string,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { trustProxy } = gatehouse.config;

  async function decide(req: IncomingMessage): Promise<Response> {
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!trustProxy.includes(peer)) return deny(new GatehouseError('PROXY_UNTRUSTED'));
    const original = originalRequest(req, decisionPath);
    if (original instanceof GatehouseError) return deny(original);
    const target = checkRequestTarget(original.target);
    if (target === null) return deny(new GatehouseError('PATH_REJECTED'));
    const route = table.match(target.path);
    if (route === undefined) return deny(new GatehouseError('NOT_FOUND'));
    const view = new NodeRequestView(req, gatehouse);
    // The guard judges the original request: its method and URI (a DPoP proof's htm and htu), and the browser's headers the proxy passed on.
    const request: GuardRequest = { method: original.method, url: original.target, headers: view };
    const answer = route.guard.check(request, view);
    const outcome = answer instanceof Promise ? await answer : answer;
    if (!outcome.ok) return deny(outcome.error, outcome.setCookies);
    const headers: Record<string, string> = {};
    const { auth } = outcome;
    if (auth !== null) {
      const authorization = await route.credentials(auth);
      if (authorization !== undefined) headers[DECISION_HEADERS.authorization] = authorization;
      headers[DECISION_HEADERS.subject] = auth.user.id;
      headers[DECISION_HEADERS.username] = auth.user.username;
      headers[DECISION_HEADERS.roles] = auth.user.roles.join(',');
      headers[DECISION_HEADERS.session] = auth.sessionId;
    }
    return jsonResponse(200, null, { headers, cookies: outcome.setCookies });
  }

  return async (req, res) => {
    let response: Response;
    try {
      response = await decide(req);
    } catch (error) {
      if (!isGatehouseError(error)) gatehouse.logger.error({ err: error }, 'decision failed');
      response = deny(error);
    }
    // The browser's request body is not the proxy's to send; whatever came is not read.
    req.resume();
    await sendWebResponse(res, response);
  };
}
