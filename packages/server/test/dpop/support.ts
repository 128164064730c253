/**
 * Proof material for the DPoP tests. Honest proofs come from panva's `dpop`
 * package, an independent client; hostile ones (wrong key, `alg: none`,
 * HMAC, a private key in the header) are built with jose by hand, as an
 * attacker would.
 */
import { createHash, randomUUID } from 'node:crypto';
import { generateKeyPair, generateProof, type KeyPair } from 'dpop';
import { exportJWK, SignJWT, type JWK } from 'jose';

export { generateKeyPair, generateProof, type KeyPair };

/** A DPoP key pair whose private key can be exported (to build hostile proofs from it). */
export function exportableKeyPair(alg: 'ES256' | 'Ed25519' | 'PS256' | 'RS256' = 'ES256'): Promise<KeyPair> {
  return generateKeyPair(alg, { extractable: true });
}

export interface ProofClaims {
  readonly htm: string;
  readonly htu: string;
  readonly iat?: number;
  readonly jti?: string;
  readonly ath?: string;
  readonly nonce?: string;
}

/** base64url(SHA-256(token)), computed here independently of the server's code. */
export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function claimsOf(claims: ProofClaims): Record<string, unknown> {
  return { jti: claims.jti ?? randomUUID(), iat: claims.iat ?? Math.floor(Date.now() / 1000), htm: claims.htm, htu: claims.htu, ath: claims.ath, nonce: claims.nonce };
}

/** A proof signed by `signer`'s private key whose `jwk` header is `headerJwk` (by default the signer's own public key). */
export async function proofWith(signer: KeyPair, claims: ProofClaims, header: { alg?: string; jwk?: JWK; typ?: string } = {}): Promise<string> {
  const jwk = header.jwk ?? (await publicJwkOf(signer));
  const alg = header.alg ?? (signer.privateKey.algorithm.name === 'ECDSA' ? 'ES256' : signer.privateKey.algorithm.name === 'Ed25519' ? 'Ed25519' : 'PS256');
  return new SignJWT(claimsOf(claims)).setProtectedHeader({ alg, typ: header.typ ?? 'dpop+jwt', jwk }).sign(signer.privateKey);
}

export async function publicJwkOf(pair: KeyPair): Promise<JWK> {
  const { kty, crv, x, y, n, e } = await exportJWK(pair.publicKey);
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK;
}

export async function privateJwkOf(pair: KeyPair): Promise<JWK> {
  return exportJWK(pair.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned proof (`alg: none`, empty signature) carrying `jwk`. */
export function unsignedProof(jwk: JWK, claims: ProofClaims): string {
  return `${b64({ alg: 'none', typ: 'dpop+jwt', jwk })}.${b64(claimsOf(claims))}.`;
}

/** A proof MACed with HS256 under `secret`, carrying `jwk` (a symmetric `oct` key, or the public key it pretends to be). */
export async function hmacProof(secret: Uint8Array, jwk: JWK, claims: ProofClaims): Promise<string> {
  return new SignJWT(claimsOf(claims)).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk }).sign(secret);
}
