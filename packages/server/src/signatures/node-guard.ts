/**
 * The signature guard on `node:http` (also under Express, whose requests are
 * Node requests): verifies, reads the body, answers refusals in Gatehouse's
 * JSON error shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseParts } from '../http/adapter-support.js';
import type { HeaderReader } from '../http/request-origin.js';
import { errorResponse } from '../http/responses.js';
import type { SignatureRequestView } from './components.js';
import { bodyLimitOf, verifySignedRequest, type SignatureGuardOptions, type SignedRequest } from './guard.js';
import type { SignatureVerifier } from './verifier.js';

/** The parts of a Node request a signature covers, read in place. `target` is the raw request target. */
export function nodeSignatureView(req: IncomingMessage, target: string = req.url ?? '/'): SignatureRequestView {
  const headers: HeaderReader = {
    get(name: string): string | null {
      const value = req.headers[name];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
  return { method: req.method ?? 'GET', target, headers };
}

/** Writes a refusal (any error; non-Gatehouse errors become a generic 500). */
export async function sendSignatureRefusal(req: IncomingMessage, res: ServerResponse, error: unknown): Promise<void> {
  const { status, headers, body } = await responseParts(errorResponse(error));
  // A body left unread (a refusal before or during reading) is not drained: the connection ends with this answer.
  if (!req.readableEnded) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}

/**
 * A signature guard for plain `node:http` routes: resolves to the verified
 * request (the signing client's `keyid` and the body, checked against its
 * `Content-Digest`), or, when refused, answers 401 (413, 400, 503) with
 * Gatehouse's JSON error and resolves to `undefined`. The guard reads the
 * body itself; do not read `req` before or after it, use `body`.
 *
 * @example
 * ```ts
 * const requireSignature = nodeSignatureGuard(gatehouse.signatures);
 * createServer(async (req, res) => {
 *   const signed = await requireSignature(req, res);
 *   if (signed === undefined) return; // already answered
 *   const order = JSON.parse(signed.body.toString('utf8'));
 *   res.end(`hello ${signed.signature.keyid}`);
 * });
 * ```
 */
export function nodeSignatureGuard(
  verifier: SignatureVerifier,
  options?: SignatureGuardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<SignedRequest | undefined> {
  const limit = bodyLimitOf(options);
  return async (req, res) => {
    try {
      return await verifySignedRequest(verifier, nodeSignatureView(req), req, limit);
    } catch (error) {
      await sendSignatureRefusal(req, res, error);
      return undefined;
    }
  };
}
