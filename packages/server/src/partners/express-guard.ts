/**
 * The partner guard as Express 5 middleware. Express is used for its types
 * only: importing this module loads no Express code.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PartnerGuardOptions } from './partner-gate.js';
import type { PartnerIdentity } from './partner-registry.js';
import { nodePartnerCheck, sendPartnerResponse } from './node-guard.js';
import type { PartnerServices } from './partners.js';

declare global {
  // Express's own extension point for request properties (the `Express.Request` interface).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `expressPartnerGuard`: the partner, its key's id and kind, and its scopes. */
      partner?: PartnerIdentity;
    }
  }
}

/**
 * Middleware that lets a request through only with a partner key valid for
 * it, sets `req.partner` and the CORS headers, and answers refusals and
 * preflights itself. Mount it with `app.use(path, …)` (or `app.all`) so it
 * also sees `OPTIONS`.
 *
 * @example
 * ```ts
 * app.use('/partner-api', expressPartnerGuard(gatehouse.partners, { requirePartnerScope: 'catalog:read' }));
 * app.get('/partner-api/items', (req, res) => res.json({ partner: req.partner?.partnerId, items: [] }));
 * ```
 */
export function expressPartnerGuard(partners: PartnerServices, options?: PartnerGuardOptions): RequestHandler {
  const check = nodePartnerCheck(partners, options);
  return function gatehousePartnerGuard(req: Request, res: Response, next: NextFunction): void {
    res.removeHeader('x-powered-by');
    Promise.resolve(check(req))
      .then(async (verdict) => {
        if (!verdict.pass) return sendPartnerResponse(res, verdict.response);
        res.set(verdict.headers);
        req.partner = verdict.partner;
        next();
      })
      .catch(next);
  };
}
