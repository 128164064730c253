/**
 * Component values (RFC 9421 §2): what each covered component identifier
 * stands for in a request. Derived components (`@method`, `@target-uri`, …)
 * come from the request line and from the origin the verifier knows itself
 * by; fields come from the headers. Anything that cannot be resolved exactly
 * is an error, never a guess: a signature over something we cannot rebuild
 * does not verify.
 */
import { parseDictionary, serializeInnerList, serializeItem, type BareItem, type Parameters } from 'structured-headers';
import type { HeaderReader } from '../http/request-origin.js';

/** The parts of a request a signature can cover. */
export interface SignatureRequestView {
  /** The method exactly as received (case-sensitive). */
  readonly method: string;
  /**
   * The request target as received on the request line: `/path?query`
   * (origin form, not decoded), or an absolute URL (absolute form).
   */
  readonly target: string;
  readonly headers: HeaderReader;
}

/**
 * Where the request was sent: scheme and authority. A verifier takes these
 * from the origin it is configured to be reached at, never from what the
 * caller claims, so a request signed for another service does not verify here.
 */
export interface RequestOrigin {
  /** `https` or `http`. */
  readonly scheme: string;
  /** Host (lower case) and port when not the scheme's default, as `URL.host` gives it. */
  readonly authority: string;
}

/** Why a component value cannot be produced; the verifier turns it into a coded error. */
export class ComponentError extends Error {
  override readonly name = 'ComponentError';
  constructor(
    readonly kind: 'unsupported' | 'absent',
    message: string,
  ) {
    super(message);
  }
}

/** A covered component identifier: its name and its (ordered) parameters. */
export interface ComponentIdentifier {
  readonly name: string;
  readonly parameters: Parameters;
}

/** The identifier as it appears in the signature base: `"name";param=value`. */
export function serializeComponentIdentifier(component: ComponentIdentifier): string {
  return serializeItem(component.name, component.parameters);
}

/** The request target split into raw (still percent-encoded) path and query. */
function pathAndQuery(target: string): { path: string; query: string | null } {
  let rest = target;
  if (!target.startsWith('/')) {
    // Absolute form (`GET https://host/path`): the path starts after the authority.
    const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (match === null) throw new ComponentError('unsupported', `the request target ${JSON.stringify(target)} has no path`);
    rest = target.slice(match[0].length);
  }
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  const path = question === -1 ? rest : rest.slice(0, question);
  return { path: path === '' ? '/' : path, query: question === -1 ? null : rest.slice(question + 1) };
}

/**
 * Percent-encodes a decoded query name or value the way the WHATWG
 * `application/x-www-form-urlencoded` serializer's percent-encode set does,
 * but with spaces as `%20` (RFC 9421 §2.2.8): only ASCII alphanumerics and
 * `*-._` stay as they are.
 */
export function encodeQueryParameter(value: string): string {
  return encodeURIComponent(value).replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryParameter(query: string | null, parameters: Parameters): string {
  const name = parameters.get('name');
  if (typeof name !== 'string' || parameters.size !== 1) {
    throw new ComponentError('unsupported', '"@query-param" needs exactly one parameter, name, a string');
  }
  const values: string[] = [];
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    if (encodeQueryParameter(key) === name) values.push(value);
  }
  if (values.length === 0) throw new ComponentError('absent', `the query has no parameter ${name}`);
  // RFC 9421 §2.2.8: a parameter that occurs more than once cannot be signed by name.
  if (values.length > 1) throw new ComponentError('unsupported', `the query parameter ${name} occurs more than once`);
  return encodeQueryParameter(values[0] ?? '');
}

function derivedComponent(component: ComponentIdentifier, request: SignatureRequestView, origin: RequestOrigin): string {
  const { name, parameters } = component;
  if (name === '@query-param') return queryParameter(pathAndQuery(request.target).query, parameters);
  if (parameters.size > 0) throw new ComponentError('unsupported', `"${name}" takes no parameters here`);
  switch (name) {
    case '@method':
      return request.method;
    case '@target-uri': {
      const { path, query } = pathAndQuery(request.target);
      return `${origin.scheme}://${origin.authority}${path}${query === null ? '' : `?${query}`}`;
    }
    case '@authority':
      return origin.authority;
    case '@scheme':
      return origin.scheme;
    case '@request-target':
      return request.target;
    case '@path':
      return pathAndQuery(request.target).path;
    case '@query': {
      const { query } = pathAndQuery(request.target);
      return `?${query ?? ''}`;
    }
    default:
      // @status belongs to responses; @signature-params is never a covered component.
      throw new ComponentError('unsupported', `"${name}" is not a request component this verifier knows`);
  }
}

function fieldComponent(component: ComponentIdentifier, request: SignatureRequestView): string {
  const { name, parameters } = component;
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new ComponentError('unsupported', `"${name}" is not a lower-case field name`);
  const raw = request.headers.get(name);
  if (raw === null) throw new ComponentError('absent', `the request has no ${name} header`);
  // Field values are trimmed; several lines of one field arrive joined with ", " (RFC 9421 §2.1).
  const value = raw.trim();
  if (parameters.size === 0) return value;
  const key = parameters.get('key');
  if (typeof key !== 'string' || parameters.size !== 1) {
    // sf, bs, req and tr are not needed for requests Gatehouse verifies; refusing beats guessing.
    throw new ComponentError('unsupported', `"${name}" has component parameters this verifier does not support`);
  }
  let member;
  try {
    member = parseDictionary(value).get(key);
  } catch {
    throw new ComponentError('absent', `the ${name} header is not a structured dictionary`);
  }
  if (member === undefined) throw new ComponentError('absent', `the ${name} header has no member ${key}`);
  return Array.isArray(member[0]) ? serializeInnerList(member as [never[], Parameters]) : serializeItem(member as [BareItem, Parameters]);
}

/** The component value of one covered component of `request`; throws {@link ComponentError}. */
export function componentValue(component: ComponentIdentifier, request: SignatureRequestView, origin: RequestOrigin): string {
  const value = component.name.startsWith('@') ? derivedComponent(component, request, origin) : fieldComponent(component, request);
  // The signature base is ASCII with one component per line (RFC 9421 §2.5).
  if (!/^[\t\x20-\x7e]*$/.test(value)) throw new ComponentError('unsupported', `the value of "${component.name}" has characters a signature base cannot hold`);
  return value;
}
