/**
 * The partner guard as a Fastify 5 `onRequest` hook. Fastify is used for its
 * types only: importing this module loads no Fastify code.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { responseParts } from '../http/adapter-support.js';
import type { PartnerGuardOptions } from './partner-gate.js';
import type { PartnerIdentity } from './partner-registry.js';
import { nodePartnerCheck } from './node-guard.js';
import type { PartnerServices } from './partners.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `fastifyPartnerGuard`: the partner, its key's id and kind, and its scopes. */
    partner?: PartnerIdentity;
  }
}

/**
 * An `onRequest` hook that lets a request through only with a partner key
 * valid for it, sets `request.partner` and the CORS headers, and answers
 * refusals and preflights itself. Give the route `OPTIONS` among its methods
 * so preflights reach it.
 *
 * @example
 * ```ts
 * app.route({
 *   method: ['GET', 'OPTIONS'],
 *   url: '/partner-api/items',
 *   onRequest: fastifyPartnerGuard(gatehouse.partners, { requirePartnerScope: 'catalog:read' }),
 *   handler: async (request) => ({ partner: request.partner?.partnerId, items: [] }),
 * });
 * ```
 */
export function fastifyPartnerGuard(partners: PartnerServices, options?: PartnerGuardOptions): onRequestAsyncHookHandler {
  const check = nodePartnerCheck(partners, options);
  return async function gatehousePartnerGuard(request: FastifyRequest, reply: FastifyReply) {
    const verdict = await check(request.raw);
    if (!verdict.pass) {
      const { status, headers, body } = await responseParts(verdict.response);
      // Awaited so the answer is out before Fastify looks at `reply.sent`; the handler never runs.
      await reply.code(status).headers(headers).send(body ?? undefined);
      return;
    }
    reply.headers(verdict.headers);
    request.partner = verdict.partner;
  };
}
