import { webcrypto, type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';

/**
 * What `AccessTokenService` needs from a key source, and the HS256 source.
 * The asymmetric source is `SigningKeySet` (signing-keys.ts).
 */

/** What a token is signed with: the exact protected header and the private (or HMAC) key. */
export interface TokenSigner {
  readonly header: { readonly alg: string; readonly kid?: string; readonly typ: 'at+jwt' };
  readonly key: CryptoKey | Promise<CryptoKey>;
}

/** One key that may verify tokens, bound to one algorithm and one exact encoded header. */
export interface TokenVerifier {
  readonly alg: string;
  /** base64url of the protected header this key's tokens carry, byte for byte. */
  readonly encodedHeader: string;
  readonly key: CryptoKey | Promise<CryptoKey>;
}

/**
 * Where `AccessTokenService` gets its keys: one HS256 key derived from
 * the secret ({@link hs256Keys}), or a rotating set of asymmetric keys
 * (`SigningKeySet`). Both answer from memory.
 */
export interface AccessTokenKeys {
  /** The key that signs now. May throw `GatehouseError` when none can (issuing then fails closed). */
  signer(): TokenSigner;
  /**
   * The key whose tokens carry exactly `encodedHeader`, or undefined. The
   * token's header is never parsed for key material or algorithm: it is only
   * compared, as text, with the headers our own keys produce.
   */
  verifierFor(encodedHeader: string): TokenVerifier | undefined;
  /**
   * Whether `verifier`, returned by {@link verifierFor} earlier, may still
   * verify now (its key was not removed or expired since). Asked on every
   * cache hit, so it must be a lookup, not a search.
   */
  trusts(verifier: TokenVerifier): boolean;
}

/**
 * The HS256 key source: one key, no `kid`, and the same pinned header as
 * before key rotation existed, so tokens issued by earlier versions still verify.
 *
 * @throws TypeError unless `key` is a secret of at least 32 bytes.
 */
export function hs256Keys(key: KeyObject): AccessTokenKeys {
  if (key.type !== 'secret' || (key.symmetricKeySize ?? 0) < 32) {
    throw new TypeError('AccessTokenService needs a secret key of at least 32 bytes.');
  }
  const raw = key.export();
  // jose 6 on Node 20 re-imports a secret KeyObject (export + importKey) on
  // every call because `KeyObject.toCryptoKey` only exists from Node 22.10,
  // which measured at about half speed. So the key is imported once, here, as a
  // non-extractable CryptoKey, and that is what jose sees.
  const imported = webcrypto.subtle
    .importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    .finally(() => raw.fill(0)) as Promise<CryptoKey>;
  const { header, encoded } = pinnedHeader('HS256', undefined);
  const signer: TokenSigner = Object.freeze({ header, key: imported });
  const verifier: TokenVerifier = Object.freeze({ alg: 'HS256', encodedHeader: encoded, key: imported });
  return Object.freeze({
    signer: () => signer,
    verifierFor: (encodedHeader: string) => (encodedHeader === encoded ? verifier : undefined),
    trusts: (candidate: TokenVerifier) => candidate === verifier,
  });
}

/**
 * The exact protected header of a token signed by `kid`, and its encoded
 * form. Verification looks keys up by that encoded text, so a token whose
 * header differs in any byte (another alg, `jku`, `jwk`, `x5u`, `crit`...)
 * finds no key at all. The members are in the order fast-jwt, which signs
 * the tokens, writes them (`alg`, `typ`, `kid`).
 */
export function pinnedHeader(alg: string, kid: string | undefined): { readonly header: TokenSigner['header']; readonly encoded: string } {
  const header = Object.freeze(kid === undefined ? { alg, typ: 'at+jwt' as const } : { alg, typ: 'at+jwt' as const, kid });
  return { header, encoded: encodeHeader(header) };
}

/**
 * Every header text a key's tokens may carry: the pinned one and, for a key
 * with a `kid`, the order earlier versions wrote (`kid` before `typ`, from
 * when jose signed), so that tokens issued by an instance not yet upgraded
 * keep verifying during a rolling upgrade. Both are the same three members
 * with the same values; nothing else is admitted.
 */
export function acceptedHeaders(alg: string, kid: string | undefined): readonly string[] {
  const { encoded } = pinnedHeader(alg, kid);
  return kid === undefined ? [encoded] : [encoded, encodeHeader({ alg, kid, typ: 'at+jwt' })];
}

function encodeHeader(header: object): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url');
}
