/**
 * Who is calling the token, revocation and introspection endpoints (RFC 6749
 * §2.3): a native app names itself (`client_id`, no secret: PKCE proves it),
 * a machine client proves itself with `client_secret_basic` or
 * `private_key_jwt` (RFC 7523). Exactly one method per request, and only the
 * one the client registered.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { OAuthClientRecord } from '../store/store.js';
import { ASSERTION_ALGORITHMS, clientSecretMatches } from './client-registry.js';
import { endpointURL, issuerOf, type OAuthDeps } from './oauth-deps.js';
import { OAuthError } from './oauth-error.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The longest an assertion may live (`exp - iat`), and so the longest its `jti` is remembered. */
const ASSERTION_MAX_LIFETIME_SECONDS = 300;

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'private_key_jwt';

export interface AuthenticatedClient {
  readonly client: OAuthClientRecord;
  readonly method: ClientAuthMethod;
}

const invalidClient = () => new OAuthError('invalid_client', 'Client authentication failed.');

/** `id:secret` of a Basic header, each form-urlencoded (RFC 6749 §2.3.1), or null when malformed. */
function readBasic(header: string): { id: string; secret: string } | null {
  if (header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return null;
  }
}

/**
 * Authenticates the caller of an endpoint. Every failure is `invalid_client`
 * (401) without saying which part failed; a replayed assertion likewise.
 */
export async function authenticateClient(deps: OAuthDeps, request: Request, form: URLSearchParams): Promise<AuthenticatedClient> {
  const authorization = request.headers.get('authorization');
  const assertionType = form.get('client_assertion_type');
  const bodyId = form.get('client_id');
  const methods = [authorization !== null, assertionType !== null, form.has('client_secret')].filter(Boolean).length;
  // client_secret in the body (client_secret_post) is not offered: one method, and secrets stay out of bodies that get logged.
  if (methods > 1 || form.has('client_secret')) throw new OAuthError('invalid_request', 'Use exactly one client authentication method.');

  if (authorization !== null) {
    const basic = readBasic(authorization);
    if (basic === null) throw invalidClient();
    if (bodyId !== null && bodyId !== basic.id) throw invalidClient();
    const client = await deps.store.findClient(basic.id);
    // A client with no secret hash (native, private_key_jwt) never matches: clientSecretMatches says false.
    if (client === null || client.type !== 'machine' || !clientSecretMatches(client, basic.secret)) throw invalidClient();
    return { client, method: 'client_secret_basic' };
  }

  if (assertionType !== null) {
    if (assertionType !== JWT_BEARER_ASSERTION) throw invalidClient();
    return { client: await verifyAssertion(deps, form.get('client_assertion') ?? '', bodyId), method: 'private_key_jwt' };
  }

  if (bodyId === null) throw invalidClient();
  const client = await deps.store.findClient(bodyId);
  // Only a native app may name itself without proof.
  if (client === null || client.type !== 'native') throw invalidClient();
  return { client, method: 'none' };
}

/**
 * A `private_key_jwt` assertion (RFC 7523 §3): signed by one of the client's
 * registered keys with an asymmetric algorithm, `iss` = `sub` = the client,
 * `aud` this server's issuer or token endpoint, `exp` soon, `jti` used once
 * across every instance.
 */
async function verifyAssertion(deps: OAuthDeps, assertion: string, bodyId: string | null): Promise<OAuthClientRecord> {
  if (assertion === '' || assertion.length > 8192) throw invalidClient();
  // Which client: read from the unverified token only to find its keys; verification below decides.
  let claimedId: unknown;
  try {
    const payload = assertion.split('.')[1] ?? '';
    claimedId = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    throw invalidClient();
  }
  if (typeof claimedId !== 'string' || (bodyId !== null && bodyId !== claimedId)) throw invalidClient();
  const client = await deps.store.findClient(claimedId);
  if (client === null || client.type !== 'machine' || client.jwks === null) throw invalidClient();
  const now = deps.clock.now();
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(JSON.parse(client.jwks) as JSONWebKeySet), {
      algorithms: [...ASSERTION_ALGORITHMS],
      issuer: client.id,
      subject: client.id,
      audience: [issuerOf(deps.config), endpointURL(deps.config, '/oauth/token')],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: deps.config.accessToken.clockToleranceSeconds,
    }));
  } catch {
    throw invalidClient();
  }
  const { exp, iat, jti } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256 || typeof exp !== 'number') throw invalidClient();
  const issuedAt = typeof iat === 'number' ? iat : now / 1000;
  if (exp - issuedAt > ASSERTION_MAX_LIFETIME_SECONDS || exp - now / 1000 > ASSERTION_MAX_LIFETIME_SECONDS) throw invalidClient();
  // Remembered until the assertion could no longer pass anyway (its exp plus the leeway).
  const keepUntil = (exp + deps.config.accessToken.clockToleranceSeconds) * 1000;
  if (!(await deps.consumeOnce.consume('client-assertion', `${client.id}:${jti}`, keepUntil))) throw invalidClient();
  return client;
}
