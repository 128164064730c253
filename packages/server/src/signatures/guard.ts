/**
 * What every framework's signature guard shares: verify the headers, then
 * read and check the body, and hand over the verified client and bytes.
 */
import type { SignatureRequestView } from './components.js';
import { announcesBody, DEFAULT_SIGNED_BODY_LIMIT_BYTES, readVerifiedBody } from './signed-body.js';
import type { SignatureVerifier, VerifiedSignature } from './verifier.js';

export interface SignatureGuardOptions {
  /** Largest body the guard reads and checks; larger gets 413 `PAYLOAD_TOO_LARGE`. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
}

/** A request whose signature, nonce and body digest all verified. */
export interface SignedRequest {
  readonly signature: VerifiedSignature;
  /** The body exactly as received and vouched for by `Content-Digest` (empty without one). */
  readonly body: Buffer;
}

/** The body limit of `options`, checked once when a guard is built. */
export function bodyLimitOf(options: SignatureGuardOptions | undefined): number {
  const limit = options?.bodyLimitBytes ?? DEFAULT_SIGNED_BODY_LIMIT_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError('bodyLimitBytes: a non-negative integer');
  return limit;
}

/**
 * Verifies `request` and reads its body from `body` (checked against the
 * signed digest as it arrives). Throws a `GatehouseError`: 401 for any
 * signature failure, 413 over the limit (declared or read; `Connection: close`), 400 for a bad `Content-Length`,
 * 503 when nonces cannot be recorded.
 */
export async function verifySignedRequest(
  verifier: SignatureVerifier,
  request: SignatureRequestView,
  body: AsyncIterable<Uint8Array> | null,
  limitBytes: number,
): Promise<SignedRequest> {
  const pending = await verifier.verify(request, { bodyExpected: announcesBody(request.headers, limitBytes) });
  return { signature: pending.signature, body: await readVerifiedBody(pending, body, limitBytes) };
}
