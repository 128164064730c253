/**
 * Gatehouse on Express 5: `app.use(expressAuth(gatehouse))` answers `/auth/*`,
 * `expressGuard(gatehouse, options)` protects a route and sets `req.auth`.
 * Express is a peer dependency used for its types only: importing this module
 * loads no Express code.
 *
 * @packageDocumentation
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import { isEnginePath, NodeRequestView } from './adapter-support.js';
import type { Auth, GuardOptions, GuardOutcome } from './guard.js';
import { isAmbiguousTarget } from './exact-path.js';
import { nodeAuthResponse, sendWebResponse } from './node.js';
import { errorResponse } from './responses.js';

declare global {
  // Express's own extension point for request properties (the `Express.Request` interface).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * Set by {@link expressGuard}: who is calling, or `null` for an
       * anonymous request the guard allowed (`allowAnonymous`). `undefined` on
       * routes without a Gatehouse guard.
       */
      auth?: Auth | null;
    }
  }
}

/** Body parsers mark a request they consumed this way (body-parser, `express.json()`). */
function bodyAlreadyRead(req: Request): boolean {
  return req.readableEnded || (req as { _body?: unknown })._body === true;
}

/**
 * Middleware that answers every request under `/auth` (`/auth`, `/auth/…`)
 * with Gatehouse and passes everything else on. Mount it before any body
 * parser (`express.json()` would consume the bodies Gatehouse must read);
 * `app.use(expressAuth(gatehouse))` and `app.use('/auth', expressAuth(gatehouse))`
 * both work.
 *
 * @example
 * ```ts
 * const app = express();
 * app.disable('x-powered-by');
 * app.use(expressAuth(gatehouse));
 * app.use(express.json());
 * ```
 */
export function expressAuth(gatehouse: Gatehouse): RequestHandler {
  return function gatehouseAuth(req: Request, res: Response, next: NextFunction): void {
    const target = req.originalUrl;
    if (!isEnginePath(gatehouse, target)) return next();
    res.removeHeader('x-powered-by');
    if (req.method !== 'GET' && req.method !== 'HEAD' && bodyAlreadyRead(req)) {
      gatehouse.logger.error('a body parser ran before expressAuth; mount expressAuth first');
      void sendWebResponse(res, errorResponse(new GatehouseError('INTERNAL_ERROR')));
      return;
    }
    nodeAuthResponse(gatehouse, req, target)
      .then((response) => sendWebResponse(res, response))
      .catch(next);
  };
}

/**
 * Middleware that lets a request through only when the guard allows it, and
 * sets `req.auth` for the handlers after it. A refused request is answered
 * here (401/403 JSON, the same body as every Gatehouse error; 503 if a
 * transparent refresh finds the store down); cookies the
 * guard sets (a cleared session, a transparent refresh) are added to `res`
 * either way. Build guards once, at start-up.
 *
 * @example
 * ```ts
 * app.get('/api/me', expressGuard(gatehouse), (req, res) => {
 *   res.json({ user: req.auth?.user });
 * });
 * app.delete('/api/users/:id', expressGuard(gatehouse, { roles: ['admin'] }), removeUser);
 * ```
 */
export function expressGuard(gatehouse: Gatehouse, options?: GuardOptions): RequestHandler {
  const check = gatehouse.guard(options).check;
  const refuse = (res: Response, error: unknown): Promise<void> => {
    res.removeHeader('x-powered-by');
    return sendWebResponse(res, errorResponse(error));
  };
  const settle = (outcome: GuardOutcome, req: Request, res: Response, next: NextFunction): void | Promise<void> => {
    if (outcome.setCookies.length > 0) res.append('set-cookie', [...outcome.setCookies]);
    if (!outcome.ok) return refuse(res, outcome.error);
    req.auth = outcome.auth;
    next();
  };
  return function gatehouseGuard(req: Request, res: Response, next: NextFunction): void {
    // Paths are exact: a guarded route never answers a spelling that could be read as another path.
    if (isAmbiguousTarget(req.originalUrl)) return void refuse(res, new GatehouseError('NOT_FOUND')).catch(next);
    // The target as sent: under a router mounted at a prefix, Express rewrites req.url (a DPoP proof's htu names the whole path).
    const view = new NodeRequestView(req, gatehouse, req.originalUrl);
    const answer = check(view, view);
    if (!(answer instanceof Promise)) {
      void settle(answer, req, res, next)?.catch(next);
      return;
    }
    answer.then((outcome) => settle(outcome, req, res, next), (error: unknown) => {
      // Only a transparent refresh can get here (the store failed): fail closed, in Gatehouse's JSON.
      if (!isGatehouseError(error) || error.status >= 500) gatehouse.logger.error({ err: error }, 'guard failed');
      return refuse(res, error);
    }).catch(next);
  };
}

export type { Auth, GuardOptions } from './guard.js';
export { expressSignatureGuard } from '../signatures/express-guard.js';
export type { SignatureGuardOptions } from '../signatures/guard.js';
export { expressPartnerGuard } from '../partners/express-guard.js';
export type { PartnerGuardOptions } from '../partners/partner-gate.js';
export type { PartnerIdentity } from '../partners/partner-registry.js';
