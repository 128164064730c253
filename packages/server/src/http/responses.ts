import { GatehouseError, isGatehouseError } from '../core/errors.js';

/**
 * Headers every Gatehouse response carries. JSON responses get a CSP that
 * allows nothing, so a response rendered as a document can never run script.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // Stops other sites from embedding our responses as images or scripts (no-cors reads).
  'cross-origin-resource-policy': 'same-origin',
});

const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

/** A JSON response with security headers and `Cache-Control: no-store`. */
export function jsonResponse(
  status: number,
  body: unknown,
  options: { readonly headers?: Readonly<Record<string, string>>; readonly cookies?: readonly string[] } = {},
): Response {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set('content-security-policy', JSON_CSP);
  headers.set('cache-control', 'no-store');
  if (body !== null) headers.set('content-type', 'application/json; charset=utf-8');
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  for (const cookie of options.cookies ?? []) headers.append('set-cookie', cookie);
  return new Response(body === null ? null : JSON.stringify(body), { status, headers });
}

/** An empty 204 response with the same headers as {@link jsonResponse}. */
export function noContent(options: { readonly headers?: Readonly<Record<string, string>>; readonly cookies?: readonly string[] } = {}): Response {
  return jsonResponse(204, null, options);
}

/**
 * The wire form of an error: `{"error":{"code","message"}}`. Anything that is
 * not a {@link GatehouseError} becomes a bare 500 so internals never leak.
 */
export function errorResponse(error: unknown, options: { readonly cookies?: readonly string[] } = {}): Response {
  const known = isGatehouseError(error) ? error : new GatehouseError('INTERNAL_ERROR', { cause: error });
  const message = known.expose ? known.message : new GatehouseError(known.code).message;
  return jsonResponse(known.status, { error: { code: known.code, message } }, { headers: known.headers, cookies: options.cookies ?? [] });
}
