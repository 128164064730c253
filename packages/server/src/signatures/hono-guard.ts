/**
 * The signature guard as Hono middleware. Hono is used for its types only:
 * importing this module loads no Hono code.
 */
import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { errorResponse } from '../http/responses.js';
import type { SignatureRequestView } from './components.js';
import { bodyLimitOf, verifySignedRequest, type SignatureGuardOptions } from './guard.js';
import type { SignatureVerifier, VerifiedSignature } from './verifier.js';

/** The context variables the signature guard sets: `c.get('signature')`. */
export interface SignatureVariables {
  /** The verified signature, its `keyid` naming the client. */
  signature: VerifiedSignature;
}

/** A Hono environment with {@link SignatureVariables}: `new Hono<SignatureEnv>()`. */
export interface SignatureEnv {
  Variables: SignatureVariables;
}

/**
 * The raw request target: on `@hono/node-server` the request line as sent
 * (`c.env.incoming.url`); elsewhere the path and query of the URL, which
 * the runtime may have normalised (a signature over an unnormalised target
 * then fails closed).
 */
function targetOf(c: Context): string {
  const env: unknown = c.env;
  if (typeof env === 'object' && env !== null && 'incoming' in env && env.incoming instanceof IncomingMessage && env.incoming.url !== undefined) {
    return env.incoming.url;
  }
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

/**
 * Middleware that lets a request through only when its RFC 9421 signature,
 * nonce and body digest verify, and sets `c.get('signature')`. It reads and
 * checks the body, then puts the same bytes back as `c.req.raw`'s body, so
 * `c.req.json()` and friends read exactly what was signed. A refused request
 * is answered here with Gatehouse's JSON error (401 with the cause's code;
 * 413; 503 if nonces cannot be recorded).
 *
 * @example
 * ```ts
 * const app = new Hono<SignatureEnv>();
 * app.post('/api/orders', honoSignatureGuard(gatehouse.signatures), async (c) =>
 *   c.json({ client: c.get('signature').keyid, order: await c.req.json() }));
 * ```
 */
export function honoSignatureGuard(verifier: SignatureVerifier, options?: SignatureGuardOptions): MiddlewareHandler<SignatureEnv> {
  const limit = bodyLimitOf(options);
  return async function gatehouseSignatureGuard(c, next) {
    const raw = c.req.raw;
    // A Web Request may carry no Host header (the runtime put the authority in the URL instead).
    const headers = { get: (name: string) => raw.headers.get(name) ?? (name === 'host' ? new URL(raw.url).host : null) };
    const view: SignatureRequestView = { method: raw.method, target: targetOf(c), headers };
    let signed;
    try {
      signed = await verifySignedRequest(verifier, view, raw.body, limit);
    } catch (error) {
      return errorResponse(error);
    }
    if (raw.body !== null) {
      // The original stream is spent; the handler reads the verified bytes instead.
      c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: signed.body, signal: raw.signal });
    }
    c.set('signature', signed.signature);
    await next();
  };
}
