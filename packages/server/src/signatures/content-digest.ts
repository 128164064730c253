/**
 * `Content-Digest` (RFC 9530): a Structured Field dictionary of hash
 * algorithm to byte sequence, over the content as sent. A signature covers
 * the header; this module checks the header against the bytes that actually
 * arrived, hashing them as they stream in.
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';

/** The digest algorithms Gatehouse computes; others in the header are ignored (RFC 9530 §2). */
export type DigestAlgorithm = 'sha-256' | 'sha-512';

const NODE_HASH: Readonly<Record<DigestAlgorithm, string>> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return name === 'sha-256' || name === 'sha-512';
}

/** The `Content-Digest` value for `body` with one algorithm, e.g. `sha-256=:…:`. */
export function contentDigest(body: Uint8Array | string, algorithm: DigestAlgorithm = 'sha-256'): string {
  const digest = createHash(NODE_HASH[algorithm]).update(body).digest();
  return serializeDictionary({ [algorithm]: digest });
}

/**
 * Checks bytes against a `Content-Digest` value while they arrive. Every
 * supported algorithm the header lists must match; a header that lists none
 * of them cannot vouch for anything and is refused when parsed.
 */
export class ContentDigestCheck {
  readonly #expected: ReadonlyMap<DigestAlgorithm, Buffer>;
  readonly #hashes: Map<DigestAlgorithm, Hash>;

  private constructor(expected: ReadonlyMap<DigestAlgorithm, Buffer>) {
    this.#expected = expected;
    this.#hashes = new Map([...expected.keys()].map((algorithm) => [algorithm, createHash(NODE_HASH[algorithm])]));
  }

  /** Parses a `Content-Digest` value; null when it is malformed or names no supported algorithm. */
  static parse(header: string): ContentDigestCheck | null {
    let dictionary;
    try {
      dictionary = parseDictionary(header);
    } catch {
      return null;
    }
    const expected = new Map<DigestAlgorithm, Buffer>();
    for (const [name, member] of dictionary) {
      if (!isDigestAlgorithm(name)) continue;
      const value = member[0];
      if (!(value instanceof ArrayBuffer)) return null;
      expected.set(name, Buffer.from(value));
    }
    return expected.size === 0 ? null : new ContentDigestCheck(expected);
  }

  /** Feeds the next chunk of the body. */
  update(chunk: Uint8Array): void {
    for (const hash of this.#hashes.values()) hash.update(chunk);
  }

  /** True when every listed supported digest equals the digest of the bytes fed so far. Call once. */
  matches(): boolean {
    let ok = true;
    for (const [algorithm, hash] of this.#hashes) {
      const actual = hash.digest();
      const expected = this.#expected.get(algorithm);
      // Lengths are public (fixed per algorithm); only equal-length buffers reach timingSafeEqual.
      if (expected === undefined || expected.length !== actual.length || !timingSafeEqual(expected, actual)) ok = false;
    }
    return ok;
  }
}
