/**
 * Where the browser goes after signing in: a path on Gatehouse's own origin,
 * never a URL an attacker chose (no open redirect).
 */

const MAX_LENGTH = 512;

/**
 * The same-origin path `value` names, normalised, or null when it is not one.
 * Refused: absolute URLs, scheme-relative `//host`, backslashes (browsers
 * read `/\host` as `//host`), control characters and whitespace, and anything
 * that resolves to another origin.
 *
 * @example
 * ```ts
 * safeReturnTo('/inbox?tab=2', 'https://app.example.com'); // '/inbox?tab=2'
 * safeReturnTo('//evil.example', 'https://app.example.com'); // null
 * ```
 */
export function safeReturnTo(value: string, publicOrigin: string): string | null {
  if (value.length === 0 || value.length > MAX_LENGTH) return null;
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return null;
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x20\x7f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, publicOrigin);
  } catch {
    return null;
  }
  if (url.origin !== publicOrigin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
