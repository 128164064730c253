/**
 * Registering OAuth clients: what a client id, a redirect URI and a scope
 * may look like, how a client secret is made and stored, and how a
 * `private_key_jwt` client's public keys are read. Used by the CLI
 * (`gatehouse client add`) and by the endpoints that match a request
 * against a registration.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { importJWK, importSPKI, exportJWK, type JWK } from 'jose';
import type { Clock } from '../core/clock.js';
import type { OAuthClientRecord, OAuthClientType, Store } from '../store/store.js';

/** A client id: what a client sends as `client_id`, and what a machine token carries as `sub`. */
export const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A scope token as RFC 6749 §3.3 defines it, capped at 64 characters. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/** The algorithms a `private_key_jwt` assertion may use: asymmetric only, never `none` nor HMAC (`Ed25519` is RFC 9864's name for EdDSA over Ed25519). */
export const ASSERTION_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'PS256'] as const;

/** What `gatehouse client add` asks for. */
export interface NewClientInput {
  readonly id: string;
  readonly type: OAuthClientType;
  readonly redirectURIs?: readonly string[];
  readonly scopes?: readonly string[];
  /** Machine clients: a public key (PEM, SPKI), a JWK or a JWK Set, for `private_key_jwt`. Without it, a secret is made. */
  readonly publicKey?: string;
}

/** A registered client and, for `client_secret_basic`, its secret: shown once, stored only as a hash. */
export interface RegisteredClient {
  readonly client: OAuthClientRecord;
  readonly secret: string | null;
}

/** SHA-256 of a client secret, hex. The secret is 256 random bits, so a fast hash suffices (no guessing to slow down). */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` is the client's, compared in constant time (over the hashes, which have one length). */
export function clientSecretMatches(client: OAuthClientRecord, secret: string): boolean {
  if (client.secretHash === null) return false;
  const expected = Buffer.from(client.secretHash, 'hex');
  const actual = Buffer.from(hashClientSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Checks one redirect URI for a native app (RFC 8252 §7): a loopback IP
 * literal over `http` (§7.3; `localhost` is refused, it may resolve
 * elsewhere), a claimed `https` URI (§7.2), or a private-use scheme in
 * reverse-domain form (§7.1). No fragment, no credentials. Returns a problem, or null.
 */
export function redirectURIProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.hash !== '' || value.includes('#')) return 'must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.protocol === 'http:') {
    if (!isLoopbackIP(url.hostname)) return 'http is allowed only for a loopback IP literal (127.0.0.1 or [::1])';
    return null;
  }
  if (url.protocol === 'https:') return null;
  const scheme = url.protocol.slice(0, -1);
  if (!scheme.includes('.')) return 'a private-use scheme must be in reverse-domain form (com.example.app:/callback)';
  return null;
}

/**
 * Whether `presented` is one of the client's redirect URIs: character for
 * character, except that a registered loopback URI matches on any port
 * (RFC 8252 §7.3: the app picks a free port when it starts).
 */
export function matchesRedirectURI(client: OAuthClientRecord, presented: string): boolean {
  if (client.redirectURIs.includes(presented)) return true;
  let url: URL;
  try {
    url = new URL(presented);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || !isLoopbackIP(url.hostname) || url.port === '') return false;
  // Only the port may differ: rebuild the presented URI without it and compare exactly.
  const withoutPort = presented.replace(`${url.hostname}:${url.port}`, url.hostname);
  return client.redirectURIs.some((registered) => registered === withoutPort && new URL(registered).port === '');
}

function isLoopbackIP(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]';
}

/**
 * A public key given as PEM (SPKI), a JWK or a JWK Set, as the JSON text of
 * a JWK Set of public keys. Refuses private keys and symmetric keys.
 */
export async function toPublicJWKS(text: string): Promise<string> {
  const trimmed = text.trim();
  let jwks: JWK[];
  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const key = await importSPKIAnyAlg(trimmed);
    jwks = [await exportJWK(key)];
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new TypeError('the public key must be PEM (BEGIN PUBLIC KEY), a JWK or a JWK Set');
    }
    const keys = typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
    jwks = keys.map((k) => {
      if (typeof k !== 'object' || k === null) throw new TypeError('every key must be a JWK object');
      return k as JWK;
    });
  }
  if (jwks.length === 0) throw new TypeError('the JWK Set has no keys');
  const cleaned: JWK[] = [];
  for (const jwk of jwks) {
    if (jwk.kty === 'oct') throw new TypeError('a symmetric key cannot be a client key: give a public key');
    if (jwk.d !== undefined || jwk.p !== undefined) throw new TypeError('that is a private key: give only the public key');
    // Imported once, so that a key jose cannot use is refused now rather than at the first token request.
    await importJWK({ ...jwk, ext: true }, jwk.alg ?? defaultAlg(jwk));
    const { kty, crv, x, y, n, e, kid, alg } = jwk;
    cleaned.push(Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg }).filter(([, v]) => v !== undefined)) as JWK);
  }
  return JSON.stringify({ keys: cleaned });
}

function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'OKP') return 'EdDSA';
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : 'ES256';
  return 'RS256';
}

async function importSPKIAnyAlg(pem: string) {
  for (const alg of ['EdDSA', 'ES256', 'ES384', 'RS256']) {
    try {
      return await importSPKI(pem, alg, { extractable: true });
    } catch {
      // try the next algorithm
    }
  }
  throw new TypeError('the PEM public key is not Ed25519, P-256, P-384 or RSA');
}

/**
 * Validates and stores a new client. A machine client without a public key
 * gets a secret (returned once; only its hash is stored). Throws `TypeError`
 * naming what is wrong, or `CLIENT_ID_TAKEN`.
 */
export async function registerClient(store: Store, clock: Clock, input: NewClientInput): Promise<RegisteredClient> {
  if (!CLIENT_ID.test(input.id)) throw new TypeError('a client id must be 1-128 letters, digits or . _ : -');
  const redirectURIs = [...new Set(input.redirectURIs ?? [])];
  const scopes = [...new Set(input.scopes ?? [])];
  for (const scope of scopes) if (!SCOPE_TOKEN.test(scope)) throw new TypeError(`scope "${scope}" is not a scope token (no spaces, quotes or backslashes)`);
  let secret: string | null = null;
  let jwks: string | null = null;
  if (input.type === 'native') {
    if (redirectURIs.length === 0) throw new TypeError('a native client needs at least one redirect URI');
    for (const uri of redirectURIs) {
      const problem = redirectURIProblem(uri);
      if (problem !== null) throw new TypeError(`redirect URI ${uri} ${problem}`);
    }
    if (input.publicKey !== undefined) throw new TypeError('a native client is public: it has no key or secret (it proves itself with PKCE)');
  } else {
    if (redirectURIs.length > 0) throw new TypeError('a machine client has no redirect URIs');
    if (input.publicKey === undefined) secret = randomBytes(32).toString('base64url');
    else jwks = await toPublicJWKS(input.publicKey);
  }
  const client: OAuthClientRecord = {
    id: input.id,
    type: input.type,
    redirectURIs,
    scopes,
    secretHash: secret === null ? null : hashClientSecret(secret),
    jwks,
    createdAt: clock.now(),
  };
  // The store writes the client's audit event in the same transaction.
  return { client: await store.createClient(client), secret };
}
