/**
 * The partner guard on `node:http` (Express's requests are Node requests
 * too, see express-guard.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseParts } from '../http/adapter-support.js';
import type { HeaderReader } from '../http/request-origin.js';
import { requiredScopesOf, type PartnerGuardOptions, type PartnerRequestView, type PartnerVerdict } from './partner-gate.js';
import type { PartnerIdentity } from './partner-registry.js';
import { partnerGateOf, type PartnerServices } from './partners.js';

/** A Node request as the gate reads it, headers read in place. */
export function nodePartnerView(req: IncomingMessage): PartnerRequestView {
  const headers: HeaderReader = {
    get(name: string): string | null {
      const value = req.headers[name];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
  return { method: req.method ?? 'GET', headers };
}

/** Writes a refusal or preflight answer. */
export async function sendPartnerResponse(res: ServerResponse, response: Response): Promise<void> {
  const { status, headers, cookies, body } = await responseParts(response);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}

/**
 * Builds the check shared by the Node and Express guards: the verdict for a
 * Node request (a Promise only when counts live in Redis).
 */
export function nodePartnerCheck(partners: PartnerServices, options?: PartnerGuardOptions): (req: IncomingMessage) => PartnerVerdict | Promise<PartnerVerdict> {
  const gate = partnerGateOf(partners);
  const scopes = requiredScopesOf(options);
  return (req) => gate.check(nodePartnerView(req), scopes);
}

/**
 * A partner guard for plain `node:http` routes: resolves to the partner and
 * key kind the request's `X-Gatehouse-Key` grants, with the CORS headers
 * already set on `res`; or answers (a refusal with its stable code, or a
 * CORS preflight) and resolves to `undefined`. Call it for every method of
 * the route, `OPTIONS` included, so preflights are answered.
 *
 * @example
 * ```ts
 * const requirePartner = nodePartnerGuard(gatehouse.partners, { requirePartnerScope: 'catalog:read' });
 * createServer(async (req, res) => {
 *   const partner = await requirePartner(req, res);
 *   if (partner === undefined) return; // already answered
 *   res.setHeader('content-type', 'application/json');
 *   res.end(JSON.stringify({ partner: partner.partnerId, items: [] }));
 * });
 * ```
 */
export function nodePartnerGuard(
  partners: PartnerServices,
  options?: PartnerGuardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<PartnerIdentity | undefined> {
  const check = nodePartnerCheck(partners, options);
  return async (req, res) => {
    const verdict = await check(req);
    if (!verdict.pass) {
      await sendPartnerResponse(res, verdict.response);
      return undefined;
    }
    for (const [name, value] of Object.entries(verdict.headers)) res.setHeader(name, value);
    return verdict.partner;
  };
}
