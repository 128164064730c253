import { GatehouseError } from '../core/errors.js';

/**
 * True for `application/json` with optional parameters. Anything a plain HTML
 * form or a "simple" cross-origin fetch can send (text/plain, urlencoded,
 * multipart) is not JSON, so requiring JSON forces a CORS preflight.
 */
export function isJSONContentType(value: string | null): boolean {
  if (value === null) return false;
  const semicolon = value.indexOf(';');
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json';
}

/**
 * A 413 is answered before the body was read to its end: the rest of it is
 * still on the connection, where it would be taken for the next request. So
 * the connection ends with the answer, and says so.
 */
export function payloadTooLarge(): GatehouseError {
  return new GatehouseError('PAYLOAD_TOO_LARGE', { headers: { connection: 'close' } });
}

/**
 * Reads a request body of at most `limitBytes` and parses it as JSON.
 * `required: false` accepts an empty body (returns undefined) for endpoints
 * that take none; a non-empty body must still be JSON.
 *
 * Errors: 415 `UNSUPPORTED_MEDIA_TYPE`, 413 `PAYLOAD_TOO_LARGE` (with `Connection: close`), 400 `MALFORMED_JSON`.
 */
export async function readJSONBody(
  request: Request,
  options: { readonly limitBytes: number; readonly required: boolean },
): Promise<unknown> {
  const contentType = request.headers.get('content-type');
  const declaredLength = request.headers.get('content-length');
  if (contentType !== null && !isJSONContentType(contentType)) throw new GatehouseError('UNSUPPORTED_MEDIA_TYPE');
  if (declaredLength !== null) {
    const n = Number(declaredLength);
    if (!Number.isSafeInteger(n) || n < 0) throw new GatehouseError('MALFORMED_JSON', { message: 'Invalid Content-Length.' });
    if (n > options.limitBytes) throw payloadTooLarge();
  }

  const bytes = await readLimited(request, options.limitBytes);
  if (bytes.length === 0) {
    if (options.required) {
      throw contentType === null ? new GatehouseError('UNSUPPORTED_MEDIA_TYPE') : new GatehouseError('MALFORMED_JSON', { message: 'The request body is empty.' });
    }
    return undefined;
  }
  if (contentType === null) throw new GatehouseError('UNSUPPORTED_MEDIA_TYPE');

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new GatehouseError('MALFORMED_JSON', { message: 'The request body is not valid UTF-8.' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatehouseError('MALFORMED_JSON');
  }
}

async function readLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      // Stop reading at once: a client streaming gigabytes costs us only the limit.
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
