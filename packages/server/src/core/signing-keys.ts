import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { NewSigningKey, SigningAlgorithm, SigningKeyRecord, Store } from '../store/store.js';
import { acceptedHeaders, pinnedHeader, type AccessTokenKeys, type TokenSigner, type TokenVerifier } from './token-keys.js';
import type { Clock } from './clock.js';
import { GatehouseError } from './errors.js';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption.js';

export { pinnedHeader } from './token-keys.js';

/** The asymmetric algorithms Gatehouse can sign access tokens with. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze(['EdDSA', 'ES256', 'RS256']);

/** Where asymmetric signing keys are kept and rotated: the {@link Store}. */
export type SigningKeyStorage = Pick<Store, 'listSigningKeys' | 'insertSigningKey' | 'deleteSigningKey'>;

/** Where a {@link SigningKeySet} reads keys from: the store, or a key file (`SigningKeyFile`). */
export type SigningKeySource = Pick<Store, 'listSigningKeys'>;

/** A key in its life: published ahead of use, signing, retired (verifies only), expired (gone). */
export type SigningKeyPhase = 'pending' | 'active' | 'retired' | 'expired';

/**
 * Where `key` stands at `now`. A retired key keeps verifying (and stays in
 * the JWKS) for `retainMs` after its successor took over, so every token it
 * signed expires before it disappears; nobody is logged out by a rotation.
 */
export function signingKeyPhase(key: SigningKeyRecord, now: number, retainMs: number): SigningKeyPhase {
  if (key.retiredAt !== null && now >= key.retiredAt) return now >= key.retiredAt + retainMs ? 'expired' : 'retired';
  return now >= key.activatesAt ? 'active' : 'pending';
}

/** The JWK members that make up each public key type: an allow-list, so no private member can ever be published. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { OKP: ['crv', 'x'], EC: ['crv', 'x', 'y'], RSA: ['n', 'e'] };

/** The public part of `jwk` only, with `kid`, `alg` and `use: sig`; null for a key type we do not sign with. */
export function publicJWK(jwk: JWK, kid: string, alg: SigningAlgorithm): JWK | null {
  const members = jwk.kty === undefined ? undefined : PUBLIC_MEMBERS[jwk.kty];
  if (members === undefined) return null;
  const out: Record<string, string> = { kty: jwk.kty as string };
  for (const name of members) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string') return null;
    out[name] = value;
  }
  return { ...out, kid, alg, use: 'sig' };
}

/** The context bound to a sealed private key, so it only decrypts on its own row. */
const sealContext = (kid: string, alg: SigningAlgorithm): string => `${kid}|${alg}`;

/**
 * A fresh key pair for `alg`, the private key sealed with `encryptionKey`.
 * The kid is the RFC 7638 thumbprint of the public key.
 *
 * @example
 * ```ts
 * await store.insertSigningKey(await generateSigningKey('EdDSA', keys.signingKeyEncryption, { now, activatesAt: now + 600_000 }));
 * ```
 */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  encryptionKey: KeyObject,
  times: { readonly now: number; readonly activatesAt: number },
): Promise<NewSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const published = publicJWK(await exportJWK(publicKey), kid, alg);
  if (published === null) throw new Error(`Unexpected key type for ${alg}.`);
  const privateJWK = await exportJWK(privateKey);
  return {
    kid,
    alg,
    publicJwk: JSON.stringify(published),
    encryptedPrivateKey: encryptPrivateKey(JSON.stringify(privateJWK), encryptionKey, sealContext(kid, alg)),
    createdAt: times.now,
    activatesAt: times.activatesAt,
  };
}

/**
 * A fresh private JWK for `alg` with its `kid` (the RFC 7638 thumbprint) and
 * `alg`, ready for a key file. Contains the private key: for the operator's
 * eyes and the file only.
 */
export async function generatePrivateJWK(alg: SigningAlgorithm): Promise<JWK> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { kid, alg, ...(await exportJWK(privateKey)) };
}

interface Entry {
  readonly record: SigningKeyRecord;
  readonly verifier: TokenVerifier;
  readonly jwk: JWK;
  /** Null when the private key could not be decrypted (the secret changed): this key cannot sign. */
  readonly signer: TokenSigner | null;
}

/** Options of {@link SigningKeySet}. */
export interface SigningKeySetOptions {
  /** How long a retired key keeps verifying and stays published: at least the access-token lifetime plus leeway. */
  readonly retainMs: number;
  /** Called with a sentence (never key material) when a key cannot be used. */
  readonly onProblem?: (message: string, kid: string) => void;
}

/**
 * The asymmetric keys of one Gatehouse instance, read from storage by
 * {@link sync} (at start, then on a timer, so a rotation made by the CLI or
 * another instance arrives without a restart). Each key is imported once;
 * signing and verification never wait on storage.
 *
 * @example
 * ```ts
 * const keySet = new SigningKeySet(store, keys.signingKeyEncryption, systemClock, { retainMs });
 * await keySet.sync();
 * const tokens = new AccessTokenService(keySet, options, systemClock);
 * ```
 */
export class SigningKeySet implements AccessTokenKeys {
  readonly #storage: SigningKeySource;
  readonly #encryptionKey: KeyObject;
  readonly #clock: Clock;
  readonly #options: SigningKeySetOptions;
  /** kid → entry; replaced as a whole by each sync. */
  #byKid = new Map<string, Entry>();
  /** encoded protected header (each spelling `acceptedHeaders` admits) → entry. */
  #byHeader = new Map<string, Entry>();
  /** verifier → entry, for {@link trusts}; rebuilt with the maps, so a removed key's verifier is no longer in it. */
  #byVerifier = new WeakMap<TokenVerifier, Entry>();
  #syncing: Promise<void> | undefined;

  constructor(storage: SigningKeySource, encryptionKey: KeyObject, clock: Clock, options: SigningKeySetOptions) {
    this.#storage = storage;
    this.#encryptionKey = encryptionKey;
    this.#clock = clock;
    this.#options = options;
  }

  /** Reads the keys from storage and imports new ones; concurrent calls share one read. Rejects when storage fails (the last known keys stay). */
  sync(): Promise<void> {
    this.#syncing ??= this.#read().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /** The key that signs now: the active key that activated last. Throws `INTERNAL_ERROR` when there is none (fail closed). */
  signer(): TokenSigner {
    const now = this.#clock.now();
    let best: Entry | undefined;
    for (const entry of this.#byKid.values()) {
      if (entry.signer === null || signingKeyPhase(entry.record, now, this.#options.retainMs) !== 'active') continue;
      if (best === undefined || entry.record.activatesAt >= best.record.activatesAt) best = entry;
    }
    if (best?.signer == null) {
      throw new GatehouseError('INTERNAL_ERROR', { message: 'No usable signing key is active; run `gatehouse keys rotate`.' });
    }
    return best.signer;
  }

  /** The key bound to exactly this encoded header, while it may verify (pending, active or retired). */
  verifierFor(encodedHeader: string): TokenVerifier | undefined {
    const entry = this.#byHeader.get(encodedHeader);
    if (entry === undefined) return undefined;
    return signingKeyPhase(entry.record, this.#clock.now(), this.#options.retainMs) === 'expired' ? undefined : entry.verifier;
  }

  /** Whether `verifier` still belongs to a key that may verify now; a WeakMap look-up and a comparison. */
  trusts(verifier: TokenVerifier): boolean {
    const entry = this.#byVerifier.get(verifier);
    return entry !== undefined && signingKeyPhase(entry.record, this.#clock.now(), this.#options.retainMs) !== 'expired';
  }

  /** The JSON Web Key Set to publish: public keys that may verify now, in activation order. */
  jwks(): { readonly keys: readonly JWK[] } {
    const now = this.#clock.now();
    const keys = [...this.#byKid.values()]
      .filter((e) => signingKeyPhase(e.record, now, this.#options.retainMs) !== 'expired')
      .map((e) => e.jwk);
    return { keys };
  }

  /** The records last read, for `keys list` and tests. */
  records(): readonly SigningKeyRecord[] {
    return [...this.#byKid.values()].map((e) => e.record);
  }

  async #read(): Promise<void> {
    const records = await this.#storage.listSigningKeys();
    const now = this.#clock.now();
    const byKid = new Map<string, Entry>();
    for (const record of records) {
      if (signingKeyPhase(record, now, this.#options.retainMs) === 'expired') continue;
      const known = this.#byKid.get(record.kid);
      // Keys never change once written except for retiredAt; keep the imported CryptoKeys.
      const entry =
        known !== undefined && known.record.alg === record.alg && known.record.publicJwk === record.publicJwk
          ? { ...known, record }
          : await this.#import(record);
      if (entry !== null) byKid.set(record.kid, entry);
    }
    const byHeader = new Map<string, Entry>();
    const byVerifier = new WeakMap<TokenVerifier, Entry>();
    for (const entry of byKid.values()) {
      for (const header of acceptedHeaders(entry.record.alg, entry.record.kid)) byHeader.set(header, entry);
      byVerifier.set(entry.verifier, entry);
    }
    this.#byKid = byKid;
    this.#byHeader = byHeader;
    this.#byVerifier = byVerifier;
  }

  async #import(record: SigningKeyRecord): Promise<Entry | null> {
    const { kid, alg } = record;
    const problem = (message: string): null => {
      this.#options.onProblem?.(message, kid);
      return null;
    };
    if (!SIGNING_ALGORITHMS.includes(alg)) return problem(`signing key has an unsupported alg "${String(alg)}"; ignored`);
    let jwk: JWK | null;
    let publicKey: CryptoKey;
    try {
      jwk = publicJWK(JSON.parse(record.publicJwk) as JWK, kid, alg);
      if (jwk === null) return problem('signing key has a malformed public JWK; ignored');
      publicKey = (await importJWK({ ...jwk, ext: false }, alg)) as CryptoKey;
    } catch {
      return problem('signing key has a public JWK that does not import for its alg; ignored');
    }
    const { header, encoded } = pinnedHeader(alg, kid);
    const verifier: TokenVerifier = { alg, encodedHeader: encoded, key: publicKey };
    let signer: TokenSigner | null = null;
    const plaintext = decryptPrivateKey(record.encryptedPrivateKey, this.#encryptionKey, sealContext(kid, alg));
    if (plaintext === null) {
      problem('signing key cannot be decrypted (was the secret changed?); it verifies but cannot sign');
    } else {
      try {
        const privateKey = (await importJWK({ ...(JSON.parse(plaintext) as JWK), ext: false }, alg)) as CryptoKey;
        signer = { header, key: privateKey };
      } catch {
        problem('signing key has a private key that does not import for its alg; it verifies but cannot sign');
      }
    }
    return { record, verifier, jwk, signer };
  }
}

/**
 * Makes sure a key of `alg` signs now: when none is active (a new
 * deployment, or the algorithm was changed in config), adds one that signs at
 * once. Returns the key it added, or null when one was already active.
 * Two instances starting together may both add one; the later retires the
 * earlier, whose tokens stay valid, so the race is harmless.
 */
export async function ensureActiveSigningKey(
  storage: SigningKeyStorage,
  alg: SigningAlgorithm,
  encryptionKey: KeyObject,
  clock: Clock,
  retainMs: number,
): Promise<SigningKeyRecord | null> {
  const now = clock.now();
  const records = await storage.listSigningKeys();
  const active = records.filter((r) => signingKeyPhase(r, now, retainMs) === 'active');
  const current = active.reduce<SigningKeyRecord | undefined>((a, r) => (a === undefined || r.activatesAt >= a.activatesAt ? r : a), undefined);
  const pending = records.some((r) => r.alg === alg && signingKeyPhase(r, now, retainMs) === 'pending');
  if (current?.alg === alg || (current !== undefined && pending)) return null;
  return storage.insertSigningKey(await generateSigningKey(alg, encryptionKey, { now, activatesAt: now }));
}

/**
 * Deletes keys that left the JWKS more than `graceMs` ago: their private
 * keys serve no purpose any more, and keeping them only widens what a leak exposes.
 */
export async function purgeExpiredSigningKeys(storage: SigningKeyStorage, now: number, retainMs: number, graceMs: number): Promise<number> {
  let deleted = 0;
  for (const record of await storage.listSigningKeys()) {
    if (record.retiredAt !== null && now >= record.retiredAt + retainMs + graceMs && (await storage.deleteSigningKey(record.kid))) deleted++;
  }
  return deleted;
}
