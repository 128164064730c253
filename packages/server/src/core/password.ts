import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, parseOptions, type Algorithm } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';
import { GatehouseError } from './errors.js';

/** Minimum length in code points after NFKC (NIST SP 800-63B: at least 8). */
export const PASSWORD_MIN_LENGTH = 8;
/** Maximum length in code points after NFKC: long passphrases welcome, megabytes not. */
export const PASSWORD_MAX_LENGTH = 128;
/**
 * Raw UTF-8 bytes refused before normalisation, so NFKC never runs on a huge
 * string (4 bytes × 128 code points is 512; this leaves room for expansion).
 */
export const PASSWORD_MAX_RAW_BYTES = 1024;

/**
 * The `Algorithm` enum of @node-rs/argon2 is an ambient `const enum`, which
 * `isolatedModules` cannot inline and which is an empty object at run time; so
 * the value (2 = Argon2id) is spelled out and only its type is imported.
 */
const ARGON2ID = 2 as Algorithm.Argon2id;

/** Argon2id cost parameters. */
export interface PasswordHasherOptions {
  /** KiB of memory; at least 19456 (19 MiB). */
  readonly memoryCost?: number;
  /** Passes; at least 2. */
  readonly timeCost?: number;
  /** Lanes; at least 1. */
  readonly parallelism?: number;
}

/** OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1. */
export const ARGON2_MINIMUM = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/**
 * The single normalisation for passwords (Unicode NFKC), so the same password
 * typed on different keyboards or input methods hashes the same (NIST 800-63B).
 *
 * @example
 * ```ts
 * normalizePassword('ｐａｓｓ'); // 'pass'
 * ```
 */
export function normalizePassword(pw: string): string {
  return pw.normalize('NFKC');
}

/** Code points, not UTF-16 units: an emoji counts as one character. */
function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Normalised password if its length is acceptable for hashing, else null. Cheap checks first. */
function boundedNormalize(password: unknown): string | null {
  if (typeof password !== 'string' || Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_RAW_BYTES) return null;
  const normalized = normalizePassword(password);
  return codePointLength(normalized) > PASSWORD_MAX_LENGTH ? null : normalized;
}

function policyError(message: string): GatehouseError {
  return new GatehouseError('PASSWORD_POLICY', { message });
}

/** What a password is checked against besides itself: words an attacker would try first for this account. */
export interface PasswordContext {
  /** The account's username. */
  readonly username?: string;
  /** Words specific to the service: its name, its host (see {@link serviceContextWords}). */
  readonly contextWords?: readonly string[];
}

/** The product's own name: the first word tried against any Gatehouse account. */
const PRODUCT_NAME = 'gatehouse';

/**
 * The context words of a service reached at `publicOrigin` (ASVS 5.0 6.2.11):
 * the product name, the host, and each part of the host name of four or more
 * letters (`app.acme-shop.com` gives `app.acme-shop.com` and `acme-shop`).
 *
 * @example
 * ```ts
 * serviceContextWords('https://notes.acme.com'); // ['gatehouse', 'notes.acme.com', 'notes', 'acme']
 * ```
 */
export function serviceContextWords(publicOrigin: string): string[] {
  const host = new URL(publicOrigin).hostname.replace(/^\[|\]$/g, '');
  const labels = host.split('.').filter((label) => label.length >= 4 && !/^\d+$/.test(label));
  return [...new Set([PRODUCT_NAME, host, ...labels])];
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim();
}

/** What is left of `folded` once every context word is taken out, longest words first. */
function withoutContextWords(folded: string, words: readonly string[]): string {
  let rest = folded;
  for (const word of [...words].sort((a, b) => b.length - a.length)) if (word !== '') rest = rest.split(word).join('');
  return rest;
}

/**
 * Enforces the password policy of NIST SP 800-63B and ASVS 5.0 6.2: length
 * 8–128 code points after NFKC, not a commonly breached password, and not
 * built on context words (6.2.11): the username, the product name, the
 * service's host. A password may contain them, but what is left without them
 * must itself be long enough and not a common password, so `alice2026!`,
 * `Gatehouse123` and `gatehousepassword` are refused while a passphrase that
 * mentions the service passes. No composition rules (they make passwords
 * worse, not better). Messages are safe to show and never contain the password.
 *
 * @throws GatehouseError `PASSWORD_POLICY` explaining what to change.
 * @example
 * ```ts
 * checkPasswordPolicy(body.password, { username, contextWords: serviceContextWords(config.publicOrigin) });
 * const hash = await hasher.hash(body.password);
 * ```
 */
export function checkPasswordPolicy(password: string, context: PasswordContext = {}): void {
  if (typeof password !== 'string') throw policyError('The password must be a string.');
  const normalized = boundedNormalize(password);
  if (normalized === null) {
    throw policyError(`The password is too long: use at most ${PASSWORD_MAX_LENGTH} characters.`);
  }
  if (codePointLength(normalized) < PASSWORD_MIN_LENGTH) {
    throw policyError(`The password is too short: use at least ${PASSWORD_MIN_LENGTH} characters. A few unrelated words make a good one.`);
  }
  const folded = normalized.toLowerCase();
  const username = typeof context.username === 'string' ? fold(context.username) : '';
  if (username !== '' && folded === username) {
    throw policyError('The password must not be the same as the username.');
  }
  if (COMMON_PASSWORDS.has(folded)) {
    throw policyError('This password is one of the most commonly used and is tried first by attackers; choose another.');
  }
  const words = [username, PRODUCT_NAME, ...(context.contextWords ?? []).map(fold)];
  const rest = withoutContextWords(folded, words);
  if (rest !== folded && (codePointLength(rest) < PASSWORD_MIN_LENGTH || COMMON_PASSWORDS.has(rest))) {
    throw policyError(
      `The password is built on the username, the service's name or its address, which attackers try first: ` +
        `it needs at least ${PASSWORD_MIN_LENGTH} other characters, not a common password.`,
    );
  }
}

/**
 * Argon2id password hashing with @node-rs/argon2. Inputs are NFKC-normalised;
 * over-long inputs are refused before any hashing (a 1 MB "password" must not
 * cost a core). Never truncates.
 *
 * @example
 * ```ts
 * const hasher = new PasswordHasher();
 * await hasher.warmUp(); // at start-up, so the first unknown-user login is not faster
 * const stored = await hasher.hash('correct horse battery staple');
 * const ok = user ? await hasher.verify(user.passwordHash, pw) : await hasher.verifyDummy(pw);
 * ```
 */
export class PasswordHasher {
  readonly #params: Readonly<Required<PasswordHasherOptions>>;
  #dummyHash: Promise<string> | undefined;

  /** @throws TypeError when an option is not a whole number or is below {@link ARGON2_MINIMUM}. */
  constructor(options: PasswordHasherOptions = {}) {
    const params: { memoryCost: number; timeCost: number; parallelism: number } = { ...ARGON2_MINIMUM };
    for (const name of ['memoryCost', 'timeCost', 'parallelism'] as const) {
      const value = options[name];
      if (value === undefined) continue;
      if (!Number.isSafeInteger(value) || value < ARGON2_MINIMUM[name]) {
        throw new TypeError(`Argon2 ${name} must be a whole number of at least ${ARGON2_MINIMUM[name]}.`);
      }
      params[name] = value;
    }
    this.#params = Object.freeze(params);
  }

  /** The Argon2id parameters new hashes use. */
  get params(): Readonly<Required<PasswordHasherOptions>> {
    return this.#params;
  }

  /**
   * Hashes `password` (NFKC-normalised) into a PHC string `$argon2id$v=19$m=…`.
   * Call {@link checkPasswordPolicy} first; this only guards the length.
   *
   * @throws GatehouseError `PASSWORD_POLICY` for an over-long password, without hashing it.
   */
  async hash(password: string): Promise<string> {
    const normalized = boundedNormalize(password);
    if (normalized === null) {
      throw policyError(`The password is too long: use at most ${PASSWORD_MAX_LENGTH} characters.`);
    }
    return argon2Hash(normalized, { algorithm: ARGON2ID, ...this.#params });
  }

  /**
   * True when `password` matches `hash`. False, never a throw, for a wrong
   * password, a malformed hash or an over-long input (refused without hashing:
   * no stored password can be that long, so this leaks nothing).
   */
  async verify(hash: string, password: string): Promise<boolean> {
    const normalized = boundedNormalize(password);
    if (normalized === null || typeof hash !== 'string') return false;
    try {
      return await argon2Verify(hash, normalized);
    } catch {
      return false; // "Decoding failed" and the like: not a hash we can trust
    }
  }

  /**
   * Does the work of a real {@link verify} and returns false. Call it when the
   * username is unknown, so that "no such user" and "wrong password" take the
   * same time and cannot be told apart (OWASP Authentication cheat sheet).
   */
  async verifyDummy(password: string): Promise<false> {
    const normalized = boundedNormalize(password);
    if (normalized === null) return false; // same early exit as verify
    const dummy = await this.#getDummyHash();
    try {
      await argon2Verify(dummy, normalized);
    } catch {
      // The result is irrelevant; only the time spent matters.
    }
    return false;
  }

  /**
   * Computes the dummy hash now instead of on the first unknown-user login (that
   * first call would otherwise take twice as long). Safe to call more than once.
   */
  async warmUp(): Promise<void> {
    await this.#getDummyHash();
  }

  /**
   * True when `hash` was made with weaker parameters than this hasher's (or is
   * not an Argon2id hash at all): after a successful login, store a new hash.
   */
  needsRehash(hash: string): boolean {
    try {
      const parsed = parseOptions(hash);
      return (
        parsed.algorithm !== ARGON2ID ||
        parsed.memoryCost < this.#params.memoryCost ||
        parsed.timeCost < this.#params.timeCost ||
        parsed.parallelism < this.#params.parallelism
      );
    } catch {
      return true;
    }
  }

  #getDummyHash(): Promise<string> {
    // A random password nobody knows, hashed once with the live parameters so
    // verifying against it costs exactly what verifying a real hash costs.
    this.#dummyHash ??= argon2Hash(randomBytes(32).toString('base64url'), { algorithm: ARGON2ID, ...this.#params }).catch(
      (error: unknown) => {
        this.#dummyHash = undefined; // let the next call retry instead of caching a failure
        throw error;
      },
    );
    return this.#dummyHash;
  }
}
