import { KeyObject } from 'node:crypto';
import { createSigner, createVerifier, type Algorithm } from 'fast-jwt';
import type { TokenSigner, TokenVerifier } from './token-keys.js';

// The JWS layer of access tokens: fast-jwt signers and verifiers built once per key, and the
// structural gates a token must pass before any JSON or crypto work.

/**
 * header.payload.signature, base64url only. The header part is then matched
 * exactly against our keys' pinned headers (see {@link AccessTokenKeys}):
 * fast-jwt serialises the header with JSON.stringify, so the first segment
 * of every token we issue is byte-for-byte known in advance (`issue` checks
 * it, and the round-trip tests prove it). Comparing strings rejects, before any parsing or crypto,
 * every other header: other algs, `none` in any case, HS256 under an
 * asymmetric kid, unknown kids, other `typ`, and any `jku`/`jwk`/`x5u`/`x5c`/`crit`.
 */
export const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Checks a token's signature (and `alg`, `typ`) synchronously with `node:crypto`; throws when it does not hold. */
export type SignatureCheck = (token: string) => unknown;

/** Signs a payload synchronously with `node:crypto` under one key's pinned header. */
export interface TokenSigning {
  readonly sign: (payload: Readonly<Record<string, unknown>>) => string;
  /** The first segment and its dot, which every token of this key must start with. */
  readonly headerPrefix: string;
}

/**
 * Builds the fast-jwt signer for `signer`'s key: HS256 wants the
 * secret's bytes (a copy is kept in a KeyObject, the buffer is wiped), the
 * others a PKCS #8 PEM private key. The header is `alg`, `typ` and `kid`
 * only, exactly the pinned one (fast-jwt writes `typ` where its default `JWT` stands, after `alg`).
 */
export async function buildTokenSigning(signer: TokenSigner): Promise<TokenSigning> {
  const { alg, kid } = signer.header;
  const key = KeyObject.from(await signer.key);
  const material = key.type === 'secret' ? key.export() : key.export({ type: 'pkcs8', format: 'pem' });
  let sign: TokenSigning['sign'];
  try {
    sign = createSigner({ key: material, algorithm: alg as Algorithm, header: { alg, typ: 'at+jwt' }, ...(kid === undefined ? {} : { kid }) });
  } finally {
    if (Buffer.isBuffer(material)) material.fill(0);
  }
  return { sign, headerPrefix: `${Buffer.from(JSON.stringify(signer.header)).toString('base64url')}.` };
}

/** Builds the fast-jwt verifier for `verifier`'s key: HS256 wants the secret's bytes, the others a PEM public key. */
export async function buildSignatureCheck(verifier: TokenVerifier): Promise<SignatureCheck> {
  const key = KeyObject.from(await verifier.key);
  const material = key.type === 'secret' ? key.export() : key.export({ type: 'spki', format: 'pem' });
  return createVerifier({
    key: material,
    algorithms: [verifier.alg as Algorithm],
    checkTyp: 'at+jwt',
    // Times are checked by readAccessTokenClaims against the service's clock, which tests can move.
    ignoreExpiration: true,
    ignoreNotBefore: true,
    cache: false,
  });
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether `text` (base64url characters only, as SHAPE checked) is the one
 * spelling of its bytes that an encoder produces: no impossible length, and
 * the bits of the last character that carry no data (2 or 4 of them) zero.
 */
export function isCanonicalBase64url(text: string): boolean {
  const unusedBits = (text.length * 6) % 8;
  if (unusedBits === 6) return false; // one character past a whole group encodes no byte
  return (BASE64URL.indexOf(text.charAt(text.length - 1)) & ((1 << unusedBits) - 1)) === 0;
}
