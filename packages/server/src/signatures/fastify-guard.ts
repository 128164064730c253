/**
 * The signature guard as a Fastify 5 `preParsing` hook. Fastify is used for
 * its types only: importing this module loads no Fastify code.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, preParsingAsyncHookHandler } from 'fastify';
import { responseParts } from '../http/adapter-support.js';
import { errorResponse } from '../http/responses.js';
import { bodyLimitOf, verifySignedRequest, type SignatureGuardOptions } from './guard.js';
import { nodeSignatureView } from './node-guard.js';
import type { SignatureVerifier, VerifiedSignature } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `fastifySignatureGuard`: the verified signature, its `keyid` naming the client. */
    signature?: VerifiedSignature;
  }
}

/**
 * A `preParsing` hook that lets a request through only when its RFC 9421
 * signature, nonce and body digest verify, and sets `request.signature`. It
 * reads the body, checks it, and hands Fastify the same bytes to parse, so
 * `request.body` is parsed as usual and is exactly what was signed. A refused
 * request is answered here with Gatehouse's JSON error (401 with the cause's
 * code; 413; 503 if nonces cannot be recorded).
 *
 * @example
 * ```ts
 * app.post('/api/orders', { preParsing: fastifySignatureGuard(gatehouse.signatures) }, async (request) => ({
 *   client: request.signature?.keyid,
 *   order: request.body,
 * }));
 * ```
 */
export function fastifySignatureGuard(verifier: SignatureVerifier, options?: SignatureGuardOptions): preParsingAsyncHookHandler {
  const limit = bodyLimitOf(options);
  return async function gatehouseSignatureGuard(request: FastifyRequest, reply: FastifyReply, payload) {
    const raw = request.raw;
    let signed;
    try {
      signed = await verifySignedRequest(verifier, nodeSignatureView(raw), payload, limit);
    } catch (error) {
      const { status, headers, body } = await responseParts(errorResponse(error));
      reply.code(status).headers(headers);
      if (!raw.readableEnded) reply.header('connection', 'close');
      // Awaited so the answer is out before Fastify looks at `reply.sent`; the handler never runs.
      await reply.send(body ?? undefined);
      return undefined;
    }
    request.signature = signed.signature;
    // Fastify checks the bytes it parses against Content-Length through this property.
    const replay = Readable.from(signed.body.length === 0 ? [] : [signed.body]) as Readable & { receivedEncodedLength: number };
    replay.receivedEncodedLength = signed.body.length;
    return replay;
  };
}
