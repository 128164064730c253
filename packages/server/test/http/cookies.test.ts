import { describe, expect, it } from 'vitest';
import { readCookie } from '../../src/http/cookies.js';

describe('readCookie', () => {
  it('finds a cookie among others, with or without spaces and quotes', () => {
    expect(readCookie('a=1; XSRF-TOKEN=abc; b=2', 'XSRF-TOKEN')).toBe('abc');
    expect(readCookie('a=1;XSRF-TOKEN="abc"', 'XSRF-TOKEN')).toBe('abc');
  });

  it('does not confuse a cookie whose name ends the same way', () => {
    expect(readCookie('XXSRF-TOKEN=evil', 'XSRF-TOKEN')).toBeUndefined();
    expect(readCookie('XXSRF-TOKEN=evil; XSRF-TOKEN=ok', 'XSRF-TOKEN')).toBe('ok');
  });

  it('believes neither value when the same name arrives twice (cookie tossing)', () => {
    expect(readCookie('__Secure-gh_refresh=attacker; __Secure-gh_refresh=victim', '__Secure-gh_refresh')).toBeUndefined();
    expect(readCookie('XSRF-TOKEN=a;XSRF-TOKEN=b', 'XSRF-TOKEN')).toBeUndefined();
  });

  it('is undefined for a missing header or cookie', () => {
    expect(readCookie(null, 'x')).toBeUndefined();
    expect(readCookie('a=1', 'x')).toBeUndefined();
  });
});

