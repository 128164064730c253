/**
 * The checks every partner guard runs, framework-free. A request names its
 * key in `X-Gatehouse-Key`.
 *
 * - A secret key (`ghsk_`) never relies on `Origin`: it is for servers, and
 *   a request that shows a sign of a browser page (`Origin` or
 *   `Sec-Fetch-Site`) is refused with
 *   `PARTNER_SECRET_KEY_IN_BROWSER`, so a leaked key is noticed.
 * - A publishable key (`ghpk_`) is valid only from the partner's registered
 *   origins: `Origin` must be one of them exactly (missing or other: 403
 *   `PARTNER_ORIGIN_REJECTED`). That restricts browsers, not attackers (any
 *   client can write `Origin`), which is why such a key only ever grants the
 *   partner's scopes, never a user's session. Unsafe methods also need the
 *   partner CSRF token and its cookie.
 * - Every key is rate-limited, and grants only the scopes of its partner.
 *
 * CORS answers (preflight and actual) name the request's origin, never `*`,
 * always with `Vary: Origin`, and only for registered origins.
 */
import { GatehouseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HeaderReader } from '../http/request-origin.js';
import { errorResponse, jsonResponse, noContent } from '../http/responses.js';
import { PARTNER_CSRF_HEADER, type PartnerCSRF } from './partner-csrf.js';
import { parsePartnerKey } from './partner-key.js';
import type { PartnerRateLimiter } from './partner-rate-limit.js';
import type { PartnerIdentity, PartnerRegistry } from './partner-registry.js';

/** The request header that carries a partner key. */
export const PARTNER_KEY_HEADER = 'x-gatehouse-key';

/** Options of a partner guard, checked when it is built. */
export interface PartnerGuardOptions {
  /** Scopes the key's partner must hold, every one of them (403 `PARTNER_SCOPE_MISSING` otherwise). */
  readonly requirePartnerScope?: string | readonly string[];
}

/** What a guard reads of a request. */
export interface PartnerRequestView {
  readonly method: string;
  readonly headers: HeaderReader;
}

export type PartnerVerdict =
  | {
      readonly pass: true;
      readonly partner: PartnerIdentity;
      /** Headers the handler's response must carry (CORS for a publishable key, `Vary: Origin` always). */
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly pass: false; readonly response: Response };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = `Content-Type, X-Gatehouse-Key, X-Gatehouse-Partner-CSRF`;
const VARY = { vary: 'Origin' } as const;

/** The scopes of `options`, checked once when a guard is built. */
export function requiredScopesOf(options: PartnerGuardOptions | undefined): readonly string[] {
  const value = options?.requirePartnerScope;
  const scopes = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !/^[A-Za-z0-9:._-]{1,64}$/.test(scope)) throw new TypeError(`requirePartnerScope: ${JSON.stringify(scope)} is not a scope`);
  }
  return scopes;
}

export class PartnerGate {
  readonly #registry: PartnerRegistry;
  readonly #limiter: PartnerRateLimiter;
  readonly #csrf: PartnerCSRF;
  readonly #logger: Logger;

  constructor(deps: { readonly registry: PartnerRegistry; readonly limiter: PartnerRateLimiter; readonly csrf: PartnerCSRF; readonly logger: Logger }) {
    this.#registry = deps.registry;
    this.#limiter = deps.limiter;
    this.#csrf = deps.csrf;
    this.#logger = deps.logger;
  }

  /** CORS headers for an actual response to `origin`. */
  #cors(origin: string): Record<string, string> {
    return { ...VARY, 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'Retry-After' };
  }

  /** A refusal; readable by the page (CORS) only when it comes from an origin some partner registered. */
  #refuse(error: GatehouseError | ErrorCode, origin: string | null): PartnerVerdict {
    const response = errorResponse(typeof error === 'string' ? new GatehouseError(error) : error);
    const headers = origin !== null && this.#registry.allowsOrigin(origin) ? this.#cors(origin) : VARY;
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return { pass: false, response };
  }

  /** Answers a CORS preflight: allowed for an origin of a partner with a working publishable key, and no other. */
  preflight(origin: string | null): Response {
    if (origin === null || !this.#registry.allowsOrigin(origin)) {
      const response = errorResponse(new GatehouseError('PARTNER_ORIGIN_REJECTED'));
      response.headers.set('vary', 'Origin');
      return response;
    }
    return noContent({
      headers: {
        ...this.#cors(origin),
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      },
    });
  }

  /**
   * Judges one request. Synchronous unless the rate limit lives in Redis.
   * A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here.
   */
  check(view: PartnerRequestView, requiredScopes: readonly string[]): PartnerVerdict | Promise<PartnerVerdict> {
    const { headers } = view;
    const origin = headers.get('origin');
    const method = view.method.toUpperCase();
    if (method === 'OPTIONS' && headers.get('access-control-request-method') !== null) return { pass: false, response: this.preflight(origin) };
    const raw = headers.get(PARTNER_KEY_HEADER);
    if (raw === null || raw === '') return this.#refuse('PARTNER_KEY_MISSING', origin);
    const presented = parsePartnerKey(raw);
    // Origin and Sec-Fetch-Site: what browsers add and servers' HTTP clients do not (Node's fetch sends
    // Sec-Fetch-Mode: cors by itself, so that header alone says nothing).
    if (raw.startsWith('ghsk_') && (origin !== null || headers.get('sec-fetch-site') !== null)) {
      // Whether or not the key is valid: a secret key in a page has leaked. The id is public; the key is never logged.
      this.#logger.warn({ partnerKeyId: presented?.id, origin }, 'a secret partner key was sent by a browser page; refused');
      return this.#refuse('PARTNER_SECRET_KEY_IN_BROWSER', origin);
    }
    if (presented === null) return this.#refuse('PARTNER_KEY_INVALID', origin);
    const verdict = this.#registry.verify(presented);
    if (!verdict.ok) return this.#refuse(verdict.code, origin);
    const { partner } = verdict;
    const publishable = partner.keyKind === 'publishable';
    if (publishable && (origin === null || !partner.origins.includes(origin))) return this.#refuse('PARTNER_ORIGIN_REJECTED', origin);
    const finish = (): PartnerVerdict => {
      for (const scope of requiredScopes) if (!partner.scopes.includes(scope)) return this.#refuse('PARTNER_SCOPE_MISSING', origin);
      if (publishable && !SAFE_METHODS.has(method) && !this.#csrf.verify(partner.keyId, headers)) return this.#refuse('PARTNER_CSRF_REJECTED', origin);
      return { pass: true, partner, headers: publishable && origin !== null ? this.#cors(origin) : VARY };
    };
    let counted: void | Promise<void>;
    try {
      counted = this.#limiter.hit(partner.keyId);
    } catch (error) {
      return this.#refuse(error as GatehouseError, origin);
    }
    if (counted === undefined) return finish();
    return counted.then(finish, (error: unknown) => this.#refuse(error instanceof GatehouseError ? error : new GatehouseError('PARTNER_RATE_LIMIT_UNAVAILABLE', { cause: error }), origin));
  }

  /**
   * `GET /auth/partner/csrf` with a publishable key: the partner CSRF token
   * in the body, its HttpOnly cookie in `Set-Cookie` (set once, reused after).
   */
  async csrfEndpoint(request: Request): Promise<Response> {
    const view = { method: request.method, headers: request.headers };
    if (request.method !== 'GET' && request.method !== 'OPTIONS') {
      const refused = this.#refuse(new GatehouseError('METHOD_NOT_ALLOWED', { headers: { allow: 'GET, OPTIONS' } }), request.headers.get('origin'));
      return refused.pass ? errorResponse(new GatehouseError('INTERNAL_ERROR')) : refused.response;
    }
    const verdict = await this.check(view, []);
    if (!verdict.pass) return verdict.response;
    if (verdict.partner.keyKind !== 'publishable') return errorResponse(new GatehouseError('FORBIDDEN'));
    const { token, setCookie } = this.#csrf.mint(verdict.partner.keyId, request.headers.get('cookie'));
    return jsonResponse(200, { csrfToken: token, header: PARTNER_CSRF_HEADER }, { headers: verdict.headers, cookies: setCookie === undefined ? [] : [setCookie] });
  }
}
