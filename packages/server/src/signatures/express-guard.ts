/**
 * The signature guard as Express 5 middleware. Express is used for its
 * types only: importing this module loads no Express code.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GatehouseError } from '../core/errors.js';
import { bodyLimitOf, verifySignedRequest, type SignatureGuardOptions } from './guard.js';
import { nodeSignatureView, sendSignatureRefusal } from './node-guard.js';
import { announcesBody } from './signed-body.js';
import type { SignatureVerifier, VerifiedSignature } from './verifier.js';

declare global {
  // Express's own extension point for request properties (the `Express.Request` interface).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `expressSignatureGuard`: the verified signature, its `keyid` naming the client. */
      signature?: VerifiedSignature;
      /** Set by `expressSignatureGuard`: the body as received, checked against its `Content-Digest`. */
      signedBody?: Buffer;
    }
  }
}

/**
 * Middleware that lets a request through only when its RFC 9421 signature,
 * nonce and body digest verify, and sets `req.signature` and
 * `req.signedBody`. Mount it before any body parser: it reads the body
 * itself, and parsers after it find the body read and leave it alone (parse
 * `req.signedBody`). A refused request is answered here with Gatehouse's JSON
 * error (401 with the cause's code; 413; 503 if nonces cannot be recorded).
 *
 * @example
 * ```ts
 * app.post('/api/orders', expressSignatureGuard(gatehouse.signatures), (req, res) => {
 *   const order = JSON.parse(req.signedBody?.toString('utf8') ?? 'null');
 *   res.json({ client: req.signature?.keyid, order });
 * });
 * ```
 */
export function expressSignatureGuard(verifier: SignatureVerifier, options?: SignatureGuardOptions): RequestHandler {
  const limit = bodyLimitOf(options);
  return function gatehouseSignatureGuard(req: Request, res: Response, next: NextFunction): void {
    res.removeHeader('x-powered-by');
    const consumed = req.readableEnded || (req as { _body?: unknown })._body === true;
    if (consumed && announcesBodySafely(req)) {
      // A body parser got there first: the bytes are gone, so the digest cannot be checked. Fail closed.
      process.emitWarning('a body parser ran before expressSignatureGuard; mount the guard before it', { code: 'GATEHOUSE_SIGNATURE_BODY_READ' });
      void sendSignatureRefusal(req, res, new GatehouseError('INTERNAL_ERROR'));
      return;
    }
    verifySignedRequest(verifier, nodeSignatureView(req, req.originalUrl), req, limit).then(
      (signed) => {
        req.signature = signed.signature;
        req.signedBody = signed.body;
        next();
      },
      (error: unknown) => sendSignatureRefusal(req, res, error),
    ).catch(next);
  };
}

function announcesBodySafely(req: Request): boolean {
  try {
    return announcesBody(nodeSignatureView(req).headers);
  } catch {
    return true;
  }
}
