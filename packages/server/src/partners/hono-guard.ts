/**
 * The partner guard as Hono middleware. Hono is used for its types only:
 * importing this module loads no Hono code.
 */
import type { MiddlewareHandler } from 'hono';
import { requiredScopesOf, type PartnerGuardOptions } from './partner-gate.js';
import type { PartnerIdentity } from './partner-registry.js';
import { partnerGateOf, type PartnerServices } from './partners.js';

/** The context variables the partner guard sets: `c.get('partner')`. */
export interface PartnerVariables {
  partner: PartnerIdentity;
}

/** A Hono environment with {@link PartnerVariables}: `new Hono<PartnerEnv>()`. */
export interface PartnerEnv {
  Variables: PartnerVariables;
}

/**
 * Middleware that lets a request through only with a partner key valid for
 * it, sets `c.get('partner')` and the CORS headers, and answers refusals and
 * preflights itself. Mount it with `app.use(path, …)` so it also sees `OPTIONS`.
 *
 * @example
 * ```ts
 * const app = new Hono<PartnerEnv>();
 * app.use('/partner-api/*', honoPartnerGuard(gatehouse.partners, { requirePartnerScope: 'catalog:read' }));
 * app.get('/partner-api/items', (c) => c.json({ partner: c.get('partner').partnerId, items: [] }));
 * ```
 */
export function honoPartnerGuard(partners: PartnerServices, options?: PartnerGuardOptions): MiddlewareHandler<PartnerEnv> {
  const gate = partnerGateOf(partners);
  const scopes = requiredScopesOf(options);
  return async function gatehousePartnerGuard(c, next) {
    const raw = c.req.raw;
    const verdict = await gate.check({ method: raw.method, headers: raw.headers }, scopes);
    if (!verdict.pass) return verdict.response;
    c.set('partner', verdict.partner);
    await next();
    // Set on the response the handler made, whichever way it made it.
    try {
      for (const [name, value] of Object.entries(verdict.headers)) c.res.headers.set(name, value);
    } catch {
      // A response with immutable headers (one the handler fetched): copy it once.
      c.res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(verdict.headers)) c.res.headers.set(name, value);
    }
    return undefined;
  };
}
