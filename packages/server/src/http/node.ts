import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ClientContext } from '../core/auth-service.js';
import { GatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import type { Auth, GuardOptions, GuardOutcome } from './guard.js';
import { answerAuthRequest, isEnginePath, isRefusedMethod, NodeRequestView } from './adapter-support.js';
import type { HeaderReader } from './request-origin.js';
import { isAmbiguousTarget } from './exact-path.js';
import { readJSONBody } from './request-body.js';
import { errorResponse, jsonResponse, SECURITY_HEADERS } from './responses.js';

/** A header view over a Node request, without copying the headers. */
export function nodeHeaders(req: IncomingMessage): HeaderReader {
  return {
    get(name: string): string | null {
      const value = req.headers[name];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Converts a Node request into a Web `Request`; the body streams, it is not buffered here. */
export function toWebRequest(req: IncomingMessage, baseURL: string, target: string = req.url ?? '/'): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) headers.append(name, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(new URL(target, baseURL), {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
    // Required by undici for a streaming request body.
    duplex: 'half',
  } as RequestInit);
}

/** Writes a Web `Response` to a Node response, keeping each `Set-Cookie` separate. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** Who is calling, from the socket and (behind a trusted proxy) `X-Forwarded-For`. */
export function nodeClientContext(gatehouse: Gatehouse, req: IncomingMessage): ClientContext {
  return gatehouse.clientContext(req.socket.remoteAddress, nodeHeaders(req));
}

/**
 * Answers a Node request under `/auth/` with the Gatehouse engine. `target`
 * is the request target the engine sees (default `req.url`; frameworks that
 * rewrite `req.url` under a mount point pass the original).
 */
export async function handleAuthRequest(gatehouse: Gatehouse, req: IncomingMessage, res: ServerResponse, target?: string): Promise<void> {
  await sendWebResponse(res, await nodeAuthResponse(gatehouse, req, target ?? req.url ?? '/'));
}

/** The engine's answer to a Node request under `/auth/`, as a Web `Response`; never rejects. */
export function nodeAuthResponse(gatehouse: Gatehouse, req: IncomingMessage, target: string): Promise<Response> {
  return answerAuthRequest(
    gatehouse,
    req.method,
    target,
    () => toWebRequest(req, gatehouse.config.publicOrigin, target),
    new NodeRequestView(req, gatehouse),
  );
}

/**
 * A guard for plain `node:http` routes. Resolves to the verified identity
 * (or null for an allowed anonymous request); when the request is refused it
 * has already answered with the JSON error and resolves to `undefined`.
 *
 * @example
 * ```ts
 * const requireUser = nodeGuard(gatehouse);
 * const auth = await requireUser(req, res);
 * if (auth === undefined) return; // already answered 401/403
 * ```
 */
export function nodeGuard(
  gatehouse: Gatehouse,
  options?: GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<Auth | null | undefined> {
  const check = gatehouse.guard(options).check;
  const settle = (outcome: GuardOutcome, res: ServerResponse): Auth | null | Promise<undefined> => {
    if (outcome.setCookies.length > 0) res.appendHeader('set-cookie', [...outcome.setCookies]);
    if (outcome.ok) return outcome.auth;
    return sendWebResponse(res, errorResponse(outcome.error)).then(() => undefined);
  };
  return (req, res) => {
    // Paths are exact: a guarded route never answers a spelling that could be read as another path.
    if (isAmbiguousTarget(req.url ?? '/')) return sendWebResponse(res, errorResponse(new GatehouseError('NOT_FOUND'))).then(() => undefined);
    const view = new NodeRequestView(req, gatehouse);
    const answer = check(view, view);
    // A verdict that is ready (nearly always) is settled now; the Promise is only what the API promises.
    return answer instanceof Promise ? answer.then((outcome) => settle(outcome, res)) : Promise.resolve(settle(answer, res));
  };
}

export interface NodeServerOptions {
  /** Handles everything outside `/auth/`. Default: a JSON 404. */
  readonly fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** Largest accepted header block. Default 16 KiB; larger gets 431. */
  readonly maxHeaderSizeBytes?: number;
}

const CLIENT_ERROR_BODIES: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE'],
};

/**
 * What a 405 for TRACE, TRACK or CONNECT outside `/auth` names in `Allow`: the
 * methods the server does not refuse outright (the application's own routes
 * decide among them).
 */
const APPLICATION_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** Runs the application's handler so that a synchronous throw becomes a rejection, not a crashed process. */
function runFallback(fallback: NonNullable<NodeServerOptions['fallback']>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => resolve(fallback(req, res)));
}

/**
 * A `node:http` server that routes `/auth/*` and `/.well-known/jwks.json` to Gatehouse and everything
 * else to `fallback`. Parser errors get a JSON answer too, never a stack.
 * TRACE, TRACK and CONNECT are refused with 405 and `Allow` on every path, the fallback's included.
 */
export function createNodeServer(gatehouse: Gatehouse, options: NodeServerOptions = {}): Server {
  const server = createServer({ maxHeaderSize: options.maxHeaderSizeBytes ?? 16 * 1024 }, (req, res) => {
    const path = req.url ?? '/';
    const work = isEnginePath(gatehouse, path)
      ? handleAuthRequest(gatehouse, req, res)
      : isRefusedMethod(req.method)
      ? sendWebResponse(res, errorResponse(new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: APPLICATION_METHODS } })))
      : options.fallback !== undefined
        ? runFallback(options.fallback, req, res)
        : sendWebResponse(res, errorResponse(new GatehouseError('NOT_FOUND')));
    work.catch((error: unknown) => {
      gatehouse.logger.error({ err: error }, 'unhandled error');
      if (!res.headersSent) void sendWebResponse(res, errorResponse(error));
      else res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, code] = CLIENT_ERROR_BODIES[error.code ?? ''] ?? [400, 'MALFORMED_REQUEST'];
    const body = JSON.stringify({ error: { code, message: status === 431 ? 'The request headers are too large.' : 'The request could not be parsed.' } });
    const security = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\nconnection: close\r\n${security}` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  return server;
}

/** Reads a JSON request body with Gatehouse's rules (JSON only, size limit); throws `GatehouseError` (400/413/415). */
export async function readNodeJSONBody(req: IncomingMessage, options: { readonly limitBytes: number }): Promise<unknown> {
  return readJSONBody(toWebRequest(req, 'http://localhost'), { limitBytes: options.limitBytes, required: true });
}

/** Sends a JSON response with Gatehouse's security headers and `Cache-Control: no-store`. */
export async function sendJSON(res: ServerResponse, status: number, body: unknown): Promise<void> {
  await sendWebResponse(res, jsonResponse(status, body));
}

/** Sends a {@link GatehouseError} (or a generic 500 for anything else) as JSON. */
export async function sendError(res: ServerResponse, error: unknown): Promise<void> {
  await sendWebResponse(res, errorResponse(error));
}

export { listen, ListenError, unmatchedLocalOrigin } from './listen.js';
export { createStaticHandler, SPA_CSP } from './static-files.js';
export type { Auth, GuardOptions } from './guard.js';
export { nodeSignatureGuard } from '../signatures/node-guard.js';
export type { SignatureGuardOptions, SignedRequest } from '../signatures/guard.js';
export { nodePartnerGuard } from '../partners/node-guard.js';
export type { PartnerGuardOptions } from '../partners/partner-gate.js';
export type { PartnerIdentity } from '../partners/partner-registry.js';
