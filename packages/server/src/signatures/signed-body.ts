/**
 * Reading the body of a signed request. The choice (see
 * docs/machine-access.md): the guard reads the whole body itself, up to a
 * limit, hashing each chunk as it arrives, and only hands it to the handler
 * once `Content-Digest` matched. No handler ever sees, parses or acts on a
 * byte the signature does not vouch for, and memory is bounded by the limit.
 */
import { GatehouseError } from '../core/errors.js';
import { payloadTooLarge } from '../http/request-body.js';
import type { HeaderReader } from '../http/request-origin.js';
import type { PendingBodyCheck } from './verifier.js';

/** Default largest signed body the guards read: 1 MiB. */
export const DEFAULT_SIGNED_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Whether the headers announce content: a `Content-Length` above zero or any
 * `Transfer-Encoding`. Throws 400 for a `Content-Length` that is not a number,
 * and 413 (closing the connection) for one above `limitBytes`: such a body is
 * refused before any of it is read or any signature work is done.
 */
export function announcesBody(headers: HeaderReader, limitBytes = Number.POSITIVE_INFINITY): boolean {
  if (headers.get('transfer-encoding') !== null) return true;
  const length = headers.get('content-length');
  if (length === null) return false;
  if (!/^\d+$/.test(length.trim())) throw new GatehouseError('MALFORMED_REQUEST', { message: 'Invalid Content-Length.' });
  if (Number(length) > limitBytes) throw payloadTooLarge();
  return Number(length) > 0;
}

/**
 * A refusal given with the body only partly read: the rest is still on the
 * connection, where it would be taken for the next request, so the
 * connection ends with the answer (every adapter, Hono's Web Response too).
 */
const UNREAD_REST = Object.freeze({ connection: 'close' });

/**
 * Reads `source` to the end (at most `limitBytes`), checking it against the
 * verified signature's `Content-Digest`. Throws 413 `PAYLOAD_TOO_LARGE` as
 * soon as the limit is passed (reading stops there; `Connection: close`), 401
 * `SIGNATURE_COMPONENT_MISSING` for bytes the signature does not cover, and
 * 401 `SIGNATURE_DIGEST_MISMATCH` when the digest differs.
 */
export async function readVerifiedBody(
  pending: PendingBodyCheck,
  source: AsyncIterable<Uint8Array> | null,
  limitBytes: number,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (source !== null) {
    // Iterated by hand: leaving a `for await` early would destroy a Node request, and its socket with it,
    // before the 413 or 401 could be sent. The unread rest is left to the server to drain or drop.
    const iterator = source[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      const chunk = next.value;
      total += chunk.byteLength;
      if (total > limitBytes) throw payloadTooLarge();
      // Without a covered digest no byte can be vouched for, however the headers described the body.
      if (pending.digest === null && chunk.byteLength > 0) {
        throw new GatehouseError('SIGNATURE_COMPONENT_MISSING', { message: 'The signature does not cover content-digest.', headers: { ...UNREAD_REST } });
      }
      pending.digest?.update(chunk);
      chunks.push(chunk);
    }
  }
  if (pending.digest !== null && !pending.digest.matches()) throw new GatehouseError('SIGNATURE_DIGEST_MISMATCH');
  return Buffer.concat(chunks, total);
}
