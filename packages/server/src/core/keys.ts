import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { GatehouseError } from './errors.js';

/**
 * The sample secret shown in our docs. It is public, so it is rejected like any
 * other default: a deployment that copied it verbatim has no secret at all.
 */
export const DOCS_PLACEHOLDER_SECRET = 'replace-me-with-at-least-32-random-bytes';

/** The smallest acceptable secret, in UTF-8 bytes (256 bits, the HS256 key size). */
export const SECRET_MIN_BYTES = 32;

/** Fewer distinct characters than this means the secret was typed, not generated. */
const SECRET_MIN_DISTINCT_CHARS = 8;

/**
 * Well-known defaults from tutorials, jwt.io and our own docs (compared
 * case-insensitively). A secret that appears on the internet is not a secret.
 */
const PLACEHOLDER_SECRETS: readonly string[] = [
  'secret',
  'changeme',
  'change-me',
  'your-256-bit-secret',
  'supersecret',
  'password',
  'gatehouse',
  DOCS_PLACEHOLDER_SECRET,
];

/**
 * The purpose-specific keys Gatehouse uses. Each is an independent 32-byte HKDF
 * subkey, so a value minted for one purpose (say a CSRF MAC) can never verify as
 * another (an access token signature), and a leak of one subkey does not reveal
 * the configured secret or the other subkeys.
 */
export interface KeyRing {
  /** HS256 key for access tokens (see `AccessTokenService`). */
  readonly accessToken: KeyObject;
  /** HMAC key for session-bound CSRF tokens (see `mintCSRFToken`). */
  readonly csrf: KeyObject;
  /** HMAC key for partner CSRF tokens (bound to a partner key and its cookie), apart from the session ones. */
  readonly partnerCSRF: KeyObject;
  /** HMAC key for deriving refresh-token successors (see `deriveSuccessor`). */
  readonly refreshDerivation: KeyObject;
  /** AES-256-GCM key that encrypts private signing keys kept in the store (see `encryptPrivateKey`). */
  readonly signingKeyEncryption: KeyObject;
  /** AES-256-GCM key that encrypts an OpenID provider's tokens kept in the store (see `sealAtRest`). */
  readonly providerTokenEncryption: KeyObject;
  /** AES-256-GCM key of the OpenID Connect login-transaction cookie (a JWE of its own `typ`). */
  readonly oidcTransaction: KeyObject;
  /** HMAC key of DPoP server nonces (see `DPoPNonces`): any instance sharing the secret accepts them. */
  readonly dpopNonce: KeyObject;
  /** AES-256-GCM key of OAuth authorization codes (a JWE of their own `typ`; see `src/oauth/authorization-code.ts`). */
  readonly oauthCode: KeyObject;
  /** AES-256-GCM key of the sign-in page's sealed authorization request (its own `typ`). */
  readonly oauthRequest: KeyObject;
  /** HS256 key of machine clients' access tokens when `signing.algorithm` is HS256 (never the user tokens' key). */
  readonly clientToken: KeyObject;
}

/**
 * Why `secret` must not be used, as a sentence fit for a start-up error, or
 * `null` when it is acceptable. The sentence never contains the secret itself,
 * because start-up errors end up in logs.
 *
 * @example
 * ```ts
 * const problem = secretProblem(process.env.GATEHOUSE_SECRET);
 * if (problem) throw new GatehouseError('CONFIG_INVALID', { message: problem });
 * ```
 */
export function secretProblem(secret: string | undefined): string | null {
  if (typeof secret !== 'string' || secret.trim() === '') {
    return 'The secret is missing or empty; set it to at least 32 random bytes (for example `openssl rand -base64 48`).';
  }
  const lowered = secret.trim().toLowerCase();
  if (PLACEHOLDER_SECRETS.some((p) => isRepetitionOf(lowered, p)) || lowered.startsWith('replace-me')) {
    return 'The secret is a well-known placeholder or default value; replace it with at least 32 random bytes.';
  }
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < SECRET_MIN_BYTES) {
    return `The secret is ${bytes} bytes long but must be at least ${SECRET_MIN_BYTES} bytes; generate one with \`openssl rand -base64 48\`.`;
  }
  if (new Set(secret).size < SECRET_MIN_DISTINCT_CHARS) {
    return `The secret uses fewer than ${SECRET_MIN_DISTINCT_CHARS} distinct characters, so it is not random; generate one with \`openssl rand -base64 48\`.`;
  }
  return null;
}

/** True when `value` is `unit` repeated one or more times ('secretsecret…'). */
function isRepetitionOf(value: string, unit: string): boolean {
  return value.length % unit.length === 0 && value === unit.repeat(value.length / unit.length);
}

/**
 * HKDF `info` labels. Versioned so that a future change of derivation can live
 * next to this one; never reuse a label for a different purpose.
 */
const INFO = {
  accessToken: 'gatehouse/v1/access-token',
  csrf: 'gatehouse/v1/csrf',
  partnerCSRF: 'gatehouse/v1/partner-csrf',
  refreshDerivation: 'gatehouse/v1/refresh-successor',
  signingKeyEncryption: 'gatehouse/v1/signing-key-encryption',
  providerTokenEncryption: 'gatehouse/v1/provider-token-encryption',
  oidcTransaction: 'gatehouse/v1/oidc-transaction',
  dpopNonce: 'gatehouse/v1/dpop-nonce',
  oauthCode: 'gatehouse/v1/oauth-code',
  oauthRequest: 'gatehouse/v1/oauth-request',
  clientToken: 'gatehouse/v1/client-token',
} as const;

/**
 * A fixed, public salt. RFC 5869 allows a constant salt; it separates our
 * derivation from any other system that might be fed the same secret.
 */
const HKDF_SALT = 'gatehouse/v1/hkdf-salt';

/**
 * Derives the {@link KeyRing} from the configured secret with HKDF-SHA256.
 * Deterministic, so every instance sharing the secret agrees on every key.
 *
 * @throws GatehouseError `CONFIG_INVALID` when {@link secretProblem} objects to
 *   the secret: failing at start-up beats running with a guessable key.
 * @example
 * ```ts
 * const keys = deriveKeyRing(config.secret);
 * const tokens = new AccessTokenService(keys.accessToken, options, systemClock);
 * ```
 */
export function deriveKeyRing(secret: string): KeyRing {
  const problem = secretProblem(secret);
  if (problem !== null) throw new GatehouseError('CONFIG_INVALID', { message: problem });
  const derive = (info: string): KeyObject => {
    const bytes = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, info, 32));
    const key = createSecretKey(bytes); // copies the bytes
    bytes.fill(0); // do not leave a second copy of key material on the heap
    return key;
  };
  return Object.freeze({
    accessToken: derive(INFO.accessToken),
    csrf: derive(INFO.csrf),
    partnerCSRF: derive(INFO.partnerCSRF),
    refreshDerivation: derive(INFO.refreshDerivation),
    signingKeyEncryption: derive(INFO.signingKeyEncryption),
    providerTokenEncryption: derive(INFO.providerTokenEncryption),
    oidcTransaction: derive(INFO.oidcTransaction),
    dpopNonce: derive(INFO.dpopNonce),
    oauthCode: derive(INFO.oauthCode),
    oauthRequest: derive(INFO.oauthRequest),
    clientToken: derive(INFO.clientToken),
  });
}
