import { GatehouseError } from '../core/errors.js';
import { payloadTooLarge } from '../http/request-body.js';

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `limitBytes`
 * (a back-channel logout request is a form post, not JSON). Errors: 415
 * `UNSUPPORTED_MEDIA_TYPE`, 413 `PAYLOAD_TOO_LARGE` (with `Connection: close`: the rest
 * of the body is left unread), 400 `MALFORMED_REQUEST`.
 */
export async function readFormBody(request: Request, options: { readonly limitBytes: number }): Promise<URLSearchParams> {
  const contentType = request.headers.get('content-type');
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new GatehouseError('UNSUPPORTED_MEDIA_TYPE', { message: 'The request body must be application/x-www-form-urlencoded.' });
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > options.limitBytes) throw payloadTooLarge();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > options.limitBytes) {
        await reader.cancel().catch(() => undefined);
        throw payloadTooLarge();
      }
      chunks.push(value);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new GatehouseError('MALFORMED_REQUEST', { message: 'The request body is not valid UTF-8.' });
  }
  return new URLSearchParams(text);
}
