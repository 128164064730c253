import { describe, expect, it } from 'vitest';
import { isAmbiguousTarget, targetOfURL } from '../../src/http/exact-path.js';

describe('isAmbiguousTarget', () => {
  it.each([
    ['/auth/./me', 'a dot segment'],
    ['/auth/sessions/../me', 'a dot-dot segment'],
    ['/auth/me/.', 'a dot segment at the end'],
    ['/auth/me/..', 'a dot-dot segment at the end'],
    ['/auth/me/..?x=1', 'a dot-dot segment before the query'],
    ['/auth/%2e/me', 'an encoded dot'],
    ['/auth/%2E%2E/me', 'encoded dots, upper case'],
    ['/auth/.%2e/me', 'a dot and an encoded dot'],
    ['/auth/sessions%2fme', 'an encoded slash'],
    ['/auth/sessions%5Cme', 'an encoded backslash'],
    ['/auth\\me', 'a backslash'],
    ['/auth/%252e/me', 'a double-encoded dot'],
    ['/auth/%25%32%65/me', 'a dot encoded twice, digit by digit'],
    ['/discount/100%25', 'an encoded percent sign (the stuff of double encoding)'],
    ['/auth//me', 'an empty segment'],
  ])('%s: ambiguous (%s)', (target) => {
    expect(isAmbiguousTarget(target)).toBe(true);
  });

  it.each([
    ['/auth/me', 'a plain path'],
    ['/auth/me?next=/./../%2e//', 'tricks in the query only'],
    ['/.well-known/jwks.json', 'a segment that starts with a dot'],
    ['/files/.../x', 'three dots (not a dot segment)'],
    ['/files/report..pdf', 'dots inside a segment'],
    ['/caf%C3%A9/menu', 'an encoded non-ASCII letter'],
    ['/auth/me/', 'a trailing slash'],
  ])('%s: exact (%s)', (target) => {
    expect(isAmbiguousTarget(target)).toBe(false);
  });
});

describe('targetOfURL', () => {
  it('keeps the path and query of an absolute URL', () => {
    expect(targetOfURL('http://example.com:8080/auth/me?x=1')).toBe('/auth/me?x=1');
    expect(targetOfURL('https://example.com')).toBe('/');
  });
});
