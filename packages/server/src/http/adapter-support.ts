/**
 * What the framework adapters (node:http, Express, Fastify, Hono) share, so
 * that they answer alike: which paths and methods belong to Gatehouse, how a
 * Web `Response` from the engine is taken apart, and light per-request views
 * that the guard can read without copying headers.
 */
import type { IncomingMessage } from 'node:http';
import type { ClientContext } from '../core/auth-service.js';
import { GatehouseError } from '../core/errors.js';
import type { Gatehouse } from '../gatehouse.js';
import type { GuardRequest } from './guard.js';
import type { HeaderReader } from './request-origin.js';
import { allowedAuthMethods } from './auth-routes.js';
import { isAmbiguousTarget } from './exact-path.js';
import { JWKS_PATH } from './jwks-route.js';
import { isOAuthPath, OAUTH_ALLOW } from '../oauth/oauth-paths.js';
import { errorResponse } from './responses.js';

/**
 * True for the paths the engine answers (a raw request target, query
 * included): `/auth`, `/auth/…`, `/auth?…`, and `/.well-known/jwks.json`
 * (with or without a query).
 */
export function isAuthPath(target: string): boolean {
  if (target.startsWith(JWKS_PATH)) {
    const after = target.charCodeAt(JWKS_PATH.length);
    return Number.isNaN(after) || after === 0x3f; /* ? */
  }
  if (!target.startsWith('/auth')) return false;
  const next = target.charCodeAt(5);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

/**
 * True for every target the engine answers for this Gatehouse: {@link isAuthPath}
 * and, when `oauth.enabled`, the OAuth paths (`/oauth/…`, the server metadata).
 */
export function isEnginePath(gatehouse: Gatehouse, target: string): boolean {
  return isAuthPath(target) || (gatehouse.config.oauth.enabled && isOAuthPath(target));
}

/**
 * Methods no Gatehouse resource supports and that a Web `Request` cannot even
 * carry (the Fetch standard forbids them). TRACE would echo the request,
 * cookies included (cross-site tracing), so it is refused outright.
 */
const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

export function isRefusedMethod(method: string | undefined): boolean {
  return REFUSED_METHODS.has((method ?? 'GET').toUpperCase());
}

/**
 * Answers a request under `/auth/` with the engine. `target` is the raw
 * request target as sent: a path spelled so that it could be read as another
 * is 404 (paths are exact). `toRequest` is called only for methods a Web
 * `Request` can carry; the others get 405 with the route's `Allow`. Never
 * rejects: an unexpected error is logged and answered with a generic 500.
 */
export async function answerAuthRequest(
  gatehouse: Gatehouse,
  method: string | undefined,
  target: string,
  toRequest: () => Request,
  client: ClientContext,
): Promise<Response> {
  if (isAmbiguousTarget(target)) return errorResponse(new GatehouseError('NOT_FOUND'));
  if (isRefusedMethod(method)) {
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const allow = allowedAuthMethods(path) ?? OAUTH_ALLOW.get(path);
    return errorResponse(allow === undefined ? new GatehouseError('NOT_FOUND') : new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow } }));
  }
  try {
    return await gatehouse.handle(toRequest(), client);
  } catch (error) {
    gatehouse.logger.error({ err: error }, 'unhandled error in /auth handler');
    return errorResponse(error);
  }
}

/** A Web `Response` taken apart for frameworks that write status, headers and body separately. */
export interface ResponseParts {
  readonly status: number;
  /** Every header but `set-cookie`. */
  readonly headers: Record<string, string>;
  /** Each `Set-Cookie` on its own. */
  readonly cookies: string[];
  readonly body: Buffer | null;
}

export async function responseParts(response: Response): Promise<ResponseParts> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const body = response.body === null ? null : Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers, cookies: response.headers.getSetCookie(), body };
}

/**
 * One object per request that is at once the guard's view of a Node request
 * (method and headers, read in place) and its client context. The client
 * address is only worked out if something asks for it (a transparent
 * refresh), not on every guarded request.
 */
export class NodeRequestView implements GuardRequest, HeaderReader, ClientContext {
  readonly #req: IncomingMessage;
  readonly #gatehouse: Gatehouse;
  readonly #target: string | undefined;
  #client: ClientContext | undefined;

  /** @param target the request target as sent, where a framework rewrites `req.url` (Express under a mount point). */
  constructor(req: IncomingMessage, gatehouse: Gatehouse, target?: string) {
    this.#req = req;
    this.#gatehouse = gatehouse;
    this.#target = target;
  }

  get method(): string {
    return this.#req.method ?? 'GET';
  }

  /** The request target as sent (`/path?query`): read only for a DPoP proof's `htu`. */
  get url(): string {
    return this.#target ?? this.#req.url ?? '/';
  }

  get headers(): HeaderReader {
    return this;
  }

  get(name: string): string | null {
    const value = this.#req.headers[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  get ip(): string {
    return this.#resolve().ip;
  }

  get userAgent(): string | null {
    return this.#resolve().userAgent;
  }

  #resolve(): ClientContext {
    this.#client ??= this.#gatehouse.clientContext(this.#req.socket.remoteAddress, this);
    return this.#client;
  }
}

/** A client context over Web headers whose address comes from the host framework, worked out on first use. */
export class LazyClientContext implements ClientContext {
  readonly #gatehouse: Gatehouse;
  readonly #headers: HeaderReader;
  readonly #remoteAddress: () => string | undefined;
  #client: ClientContext | undefined;

  constructor(gatehouse: Gatehouse, headers: HeaderReader, remoteAddress: () => string | undefined) {
    this.#gatehouse = gatehouse;
    this.#headers = headers;
    this.#remoteAddress = remoteAddress;
  }

  get ip(): string {
    return this.#resolve().ip;
  }

  get userAgent(): string | null {
    return this.#resolve().userAgent;
  }

  #resolve(): ClientContext {
    this.#client ??= this.#gatehouse.clientContext(this.#remoteAddress(), this.#headers);
    return this.#client;
  }
}
