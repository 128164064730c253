import { describe, expect, it } from 'vitest';
import type { GatewayRoute } from '../../src/config/resolve.js';
import { checkRequestTarget, pathUnderPrefix } from '../../src/gateway/request-path.js';
import { publicLocation, upstreamTarget } from '../../src/gateway/route-table.js';

describe('checkRequestTarget: what the gateway accepts', () => {
  it.each([
    ['/api/orders', '/api/orders', ''],
    ['/api/orders/', '/api/orders/', ''],
    ['/api/orders?limit=5&sort=-date', '/api/orders', '?limit=5&sort=-date'],
    ['/api/files/r%C3%A9sum%C3%A9.pdf', '/api/files/r%C3%A9sum%C3%A9.pdf', ''],
    ['/api/search/a%20b', '/api/search/a%20b', ''],
    ["/api/x:y@z!$&'()*+,=~_-.v1", "/api/x:y@z!$&'()*+,=~_-.v1", ''],
    ['/api/q?filter=[a|b]&path=../x', '/api/q', '?filter=[a|b]&path=../x'],
    ['/api/tags/[a]|b^c', '/api/tags/[a]|b^c', ''],
    ['/', '/', ''],
  ])('accepts %s as it is', (target, path, query) => {
    expect(checkRequestTarget(target)).toEqual({ path, query });
  });

  it.each([
    ['a dot-dot segment', '/api/../admin'],
    ['a dot segment', '/api/./admin'],
    ['a trailing dot-dot', '/api/..'],
    ['a segment ending in a dot (Windows drops it)', '/admin./x'],
    ['an encoded dot-dot', '/api/%2e%2e/admin'],
    ['an upper-case encoded dot', '/api/%2E%2E/admin'],
    ['a half-encoded dot-dot', '/api/.%2e/admin'],
    ['an encoded slash', '/api/..%2fadmin'],
    ['an upper-case encoded slash', '/api%2Fadmin'],
    ['an encoded backslash', '/api/..%5cadmin'],
    ['a raw backslash', '/api\\..\\admin'],
    ['double encoding of a dot', '/api/%252e%252e/admin'],
    ['double encoding of a slash', '/api%252fadmin'],
    ['an encoded letter (/%61dmin is /admin upstream)', '/%61dmin/users'],
    ['an encoded digit', '/api/v%31'],
    ['an encoded tilde', '/api/%7euser'],
    ['an empty segment', '/api//admin'],
    ['a leading double slash (an authority to a URL parser)', '//evil.example/x'],
    ['a path parameter (/admin;/ in Java servers)', '/admin;/x'],
    ['a dot-dot with a parameter (..;/)', '/api/..;/admin'],
    ['an encoded semicolon', '/admin%3b/x'],
    ['an overlong UTF-8 dot', '/api/%c0%ae%c0%ae/admin'],
    ['an overlong UTF-8 slash', '/api/..%c0%afadmin'],
    ['an encoded NUL', '/api/x%00.json'],
    ['an encoded newline', '/api/x%0d%0aSet-Cookie:a=b'],
    ['a malformed escape', '/api/%zz'],
    ['a truncated escape', '/api/%4'],
    ['an IIS %u escape', '/api/%u002e%u002e/admin'],
    ['a raw non-ASCII character', '/api/é'],
    ['a raw space', '/api/a b'],
    ['a raw quote', '/api/"x"'],
    ['a raw brace', '/api/{x}'],
    ['a raw backtick', '/api/`x`'],
    ['a fragment', '/api/x#frag'],
    ['a fragment in the query', '/api/x?a=1#frag'],
    ['a control character in the query', '/api/x?a=\u0001'],
    ['an absolute-form target', 'http://upstream.internal/admin'],
    ['an asterisk-form target', '*'],
    ['an empty target', ''],
  ])('refuses %s: %s', (_what, target) => {
    expect(checkRequestTarget(target)).toBeNull();
  });
});

describe('pathUnderPrefix: segment boundaries and case', () => {
  it('matches the prefix itself and paths below it', () => {
    expect(pathUnderPrefix('/api', '/api')).toBe(true);
    expect(pathUnderPrefix('/api/', '/api')).toBe(true);
    expect(pathUnderPrefix('/api/orders/7', '/api')).toBe(true);
  });

  it('does not match a longer segment that merely starts the same', () => {
    expect(pathUnderPrefix('/apix', '/api')).toBe(false);
    expect(pathUnderPrefix('/api-admin', '/api')).toBe(false);
    expect(pathUnderPrefix('/ap', '/api')).toBe(false);
  });

  it('ignores ASCII letter case, so /API/Admin still meets the /api/admin route', () => {
    expect(pathUnderPrefix('/API/Admin/users', '/api/admin')).toBe(true);
  });

  it('folds letters only: "_" (0x5f) is not "\x7f", "-" is not "\r"', () => {
    expect(pathUnderPrefix('/a\x7f', '/a_')).toBe(false);
    expect(pathUnderPrefix('/a\r', '/a-')).toBe(false);
  });

  it('"/" matches everything', () => {
    expect(pathUnderPrefix('/anything/at/all', '/')).toBe(true);
  });
});

describe('upstreamTarget: concatenation, never URL resolution', () => {
  const route = (over: Partial<GatewayRoute>): GatewayRoute => ({
    prefix: '/api/orders',
    upstream: { origin: 'http://orders.internal', basePath: '' },
    audience: 'orders',
    auth: 'required',
    roles: [],
    stripPrefix: false,
    forward: 'identity',
    websocket: false,
    transparentRefresh: false,
    cookies: [],
    timeouts: { connectSeconds: 5, responseSeconds: 30, idleSeconds: 300 },
    ...over,
  });

  it('keeps the whole path by default, after the upstream URL’s own path', () => {
    expect(upstreamTarget(route({ upstream: { origin: 'http://o', basePath: '/v1' } }), { path: '/api/orders/7', query: '?x=1' })).toBe('/v1/api/orders/7?x=1');
  });

  it('strips the prefix when told, leaving "/" for the prefix itself', () => {
    expect(upstreamTarget(route({ stripPrefix: true }), { path: '/api/orders/7', query: '' })).toBe('/7');
    expect(upstreamTarget(route({ stripPrefix: true }), { path: '/api/orders', query: '?a=b' })).toBe('/?a=b');
    expect(upstreamTarget(route({ stripPrefix: true, upstream: { origin: 'http://o', basePath: '/v1' } }), { path: '/api/orders', query: '' })).toBe('/v1');
  });

  it('strips as many characters as the prefix has, whatever their case', () => {
    expect(upstreamTarget(route({ stripPrefix: true }), { path: '/API/Orders/7', query: '' })).toBe('/7');
  });
});

describe('publicLocation: redirects to the upstream’s own address, mapped back', () => {
  const route = (over: Partial<GatewayRoute>): GatewayRoute => ({
    prefix: '/api/admin',
    upstream: { origin: 'http://admin.internal:9000', basePath: '/v2' },
    audience: 'admin',
    auth: 'required',
    roles: [],
    stripPrefix: true,
    forward: 'identity',
    websocket: false,
    transparentRefresh: false,
    cookies: [],
    timeouts: { connectSeconds: 5, responseSeconds: 30, idleSeconds: 300 },
    ...over,
  });

  it.each([
    ['http://admin.internal:9000/v2/users/7?tab=1', '/api/admin/users/7?tab=1'],
    ['http://admin.internal:9000/v2', '/api/admin'],
    ['http://admin.internal:9000/v2?x=1', '/api/admin?x=1'],
  ])('with stripPrefix: %s becomes %s', (location, expected) => {
    expect(publicLocation(route({}), location)).toBe(expected);
  });

  it('without stripPrefix the public path is the upstream path below its base', () => {
    expect(publicLocation(route({ stripPrefix: false }), 'http://admin.internal:9000/v2/api/admin/users')).toBe('/api/admin/users');
  });

  it.each([
    ['a relative location', '/v2/users'],
    ['another origin', 'https://login.example.com/'],
    ['another port that starts the same', 'http://admin.internal:90001/v2/x'],
    ['a path outside the base path', 'http://admin.internal:9000/v3/x'],
    ['a path that only starts like the base path', 'http://admin.internal:9000/v2x/y'],
  ])('leaves %s alone', (_what, location) => {
    expect(publicLocation(route({}), location)).toBe(location);
  });
});
