import { GatehouseError } from './errors.js';

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 64;

/** Starts and ends with a letter or digit; `.`, `_`, `@`, `+`, `-` allowed inside. ASCII only. */
const USERNAME_PATTERN = /^[a-z0-9](?:[a-z0-9._@+-]*[a-z0-9])?$/;

/**
 * Raw inputs longer than this are refused before normalisation: NFKC can expand
 * a string (one code point may become 18), and there is no reason to spend CPU
 * on a username that cannot possibly fit.
 */
const RAW_INPUT_LIMIT = 256;

/**
 * The one canonical form of a username, used both to store and to look up, so
 * that "Alice", "ALICE" and fullwidth "ＡＬＩＣＥ" are the same account.
 *
 * Steps: Unicode NFKC (folds compatibility forms such as fullwidth letters and
 * ligatures to ASCII), `toLowerCase()`, trim. The result must be 3–64
 * characters matching `^[a-z0-9](?:[a-z0-9._@+-]*[a-z0-9])?$`.
 *
 * Why ASCII only: NFKC does not fold look-alikes across scripts (Cyrillic "а"
 * U+0430 stays distinct from Latin "a"), so allowing other scripts would let
 * someone register "аlice" next to "alice" and impersonate them. Rejecting
 * non-ASCII after normalisation rules that out without a confusables table.
 * Accepting international usernames later needs UTS #39 skeleton checks first.
 *
 * @throws GatehouseError `USERNAME_INVALID` with a message that says what to fix
 *   (the message never echoes the input).
 * @example
 * ```ts
 * normalizeUsername('  Alice ');  // 'alice'
 * normalizeUsername('ＡＬＩＣＥ'); // 'alice'
 * normalizeUsername('аlice');     // throws USERNAME_INVALID (Cyrillic а)
 * ```
 */
export function normalizeUsername(input: unknown): string {
  if (typeof input !== 'string') {
    throw invalid('The username must be a string.');
  }
  if (input.length > RAW_INPUT_LIMIT) {
    throw invalid(`The username must be at most ${USERNAME_MAX_LENGTH} characters long.`);
  }
  const normalized = input.normalize('NFKC').toLowerCase().trim();
  if (normalized.length < USERNAME_MIN_LENGTH || normalized.length > USERNAME_MAX_LENGTH) {
    throw invalid(
      `The username must be between ${USERNAME_MIN_LENGTH} and ${USERNAME_MAX_LENGTH} characters long.`,
    );
  }
  if (!USERNAME_PATTERN.test(normalized)) {
    throw invalid(
      'The username may contain only the letters a–z, digits and . _ @ + -, and must start and end with a letter or digit.',
    );
  }
  return normalized;
}

function invalid(message: string): GatehouseError {
  return new GatehouseError('USERNAME_INVALID', { message });
}
