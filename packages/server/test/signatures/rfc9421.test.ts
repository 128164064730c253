import { constants, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ComponentIdentifier, RequestOrigin, SignatureRequestView } from '../../src/signatures/components.js';
import { componentValue } from '../../src/signatures/components.js';
import { ContentDigestCheck } from '../../src/signatures/content-digest.js';
import { ed25519SigningKey, ed25519VerificationKey, hmacSignatureKey, signBase, verifyBase } from '../../src/signatures/keys.js';
import { createSignatureBase, readSignatureEntry } from '../../src/signatures/signature-base.js';
import {
  B_2_1,
  B_2_2,
  B_2_3,
  B_2_5,
  B_2_6,
  B_4,
  SECTION_2_5,
  TEST_KEY_ED25519_PRIVATE,
  TEST_KEY_ED25519_PUBLIC,
  TEST_KEY_RSA_PSS_PUBLIC,
  TEST_REQUEST,
  TEST_SHARED_SECRET,
} from './rfc9421-vectors.js';

/** The RFC's examples are sent over HTTPS to example.com (B.2) or example.org (B.4). */
const EXAMPLE_COM: RequestOrigin = { scheme: 'https', authority: 'example.com' };
const EXAMPLE_ORG: RequestOrigin = { scheme: 'https', authority: 'example.org' };

function view(method: string, target: string, headers: Iterable<readonly [string, string]>): SignatureRequestView {
  const h = new Headers();
  // Several lines of one field are joined with ", " by Headers, as the RFC's §2.1 combination asks.
  for (const [name, value] of headers) h.append(name, value);
  return { method, target, headers: h };
}

const testRequest = view(TEST_REQUEST.method, TEST_REQUEST.target, Object.entries(TEST_REQUEST.headers));

/** The base our code builds for the signature in `signatureInput`/`signature` over `request`. */
function baseFor(request: SignatureRequestView, vector: { signatureInput: string; signature: string }, origin = EXAMPLE_COM) {
  const entry = readSignatureEntry(vector.signatureInput, vector.signature);
  return { entry, base: createSignatureBase(request, origin, entry.components, entry.parameters) };
}

function rsaPssVerifies(base: string, signature: Buffer): boolean {
  const key = createPublicKey(TEST_KEY_RSA_PSS_PUBLIC);
  return verify('sha512', Buffer.from(base), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature);
}

describe('RFC 9421 signature bases, built from the test-request exactly as the RFC prints them', () => {
  it.each([
    ['2.5 (example signature base)', SECTION_2_5],
    ['B.2.1 (minimal: no covered components, a nonce)', B_2_1],
    ['B.2.2 (a named query parameter and a tag)', B_2_2],
    ['B.2.3 (full coverage, @query included)', B_2_3],
  ])('%s: same bytes, and the RFC\'s rsa-pss-sha512 signature verifies over them', (_name, vector) => {
    const { entry, base } = baseFor(testRequest, vector);
    expect(base).toBe(vector.base);
    // The RFC signed these bases with test-key-rsa-pss; its signature over our bytes proves them byte-exact.
    expect(rsaPssVerifies(base, entry.signature)).toBe(true);
    expect(rsaPssVerifies(`${base}\n`, entry.signature)).toBe(false);
  });
});

describe('RFC 9421 B.2.5: hmac-sha256 with test-shared-secret', () => {
  const key = hmacSignatureKey('test-shared-secret', TEST_SHARED_SECRET);

  it('builds the printed signature base', () => {
    expect(baseFor(testRequest, B_2_5).base).toBe(B_2_5.base);
  });

  it('computes exactly the printed signature, and verifies it', () => {
    const { entry, base } = baseFor(testRequest, B_2_5);
    expect(signBase(key, base).toString('base64')).toBe('pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=');
    expect(verifyBase(key, base, entry.signature)).toBe(true);
  });

  it('does not verify once a covered value changes (content-type)', () => {
    const changed = view('POST', TEST_REQUEST.target, Object.entries({ ...TEST_REQUEST.headers, 'content-type': 'text/plain' }));
    const { entry, base } = baseFor(changed, B_2_5);
    expect(verifyBase(key, base, entry.signature)).toBe(false);
  });
});

describe('RFC 9421 B.2.6: ed25519 with test-key-ed25519', () => {
  it('builds the printed signature base', () => {
    expect(baseFor(testRequest, B_2_6).base).toBe(B_2_6.base);
  });

  it('verifies the printed signature with the public key', () => {
    const { entry, base } = baseFor(testRequest, B_2_6);
    expect(verifyBase(ed25519VerificationKey('test-key-ed25519', TEST_KEY_ED25519_PUBLIC), base, entry.signature)).toBe(true);
  });

  it('signs to exactly the printed signature (Ed25519 is deterministic)', () => {
    const { base } = baseFor(testRequest, B_2_6);
    const signature = signBase(ed25519SigningKey('test-key-ed25519', TEST_KEY_ED25519_PRIVATE), base);
    expect(`sig-b26=:${signature.toString('base64')}:`).toBe(B_2_6.signature);
  });

  it('does not verify for another path', () => {
    const moved = view('POST', '/bar?param=Value&Pet=dog', Object.entries(TEST_REQUEST.headers));
    const { entry, base } = baseFor(moved, B_2_6);
    expect(verifyBase(ed25519VerificationKey('test-key-ed25519', TEST_KEY_ED25519_PUBLIC), base, entry.signature)).toBe(false);
  });
});

describe('RFC 9421 B.4: transformations an ed25519 signature survives, and ones it does not', () => {
  const key = ed25519VerificationKey('test-key-ed25519', TEST_KEY_ED25519_PUBLIC);
  const check = (message: (typeof B_4)['original']) => {
    const request = view(message.method, message.target, message.headers);
    const headers = new Headers(message.headers);
    const entry = readSignatureEntry(headers.get('signature-input'), headers.get('signature'));
    const base = createSignatureBase(request, EXAMPLE_ORG, entry.components, entry.parameters);
    return { base, verifies: verifyBase(key, base, entry.signature) };
  };

  it('the original: the printed base (two Accept lines combined), and the signature verifies', () => {
    expect(check(B_4.original)).toEqual({ base: B_4.base, verifies: true });
  });

  it.each(B_4.valid.map((message, i) => [i + 1, message] as const))('allowed transformation %i still verifies', (_i, message) => {
    expect(check(message).verifies).toBe(true);
  });

  it.each(B_4.invalid.map((message, i) => [i + 1, message] as const))('breaking transformation %i does not verify', (_i, message) => {
    expect(check(message).verifies).toBe(false);
  });
});

describe('RFC 9421 §2.1 and §2.2: component values of the RFC\'s examples', () => {
  const component = (name: string, parameters: [string, string][] = []): ComponentIdentifier => ({ name, parameters: new Map(parameters) });
  const www = { scheme: 'https', authority: 'www.example.com' };

  it('fields: trimmed, repeated lines combined with ", ", dictionary members kept as sent', () => {
    const request = view('GET', '/', [
      ['Host', 'www.example.com'],
      ['X-OWS-Header', '  Leading and trailing whitespace.  '],
      ['Cache-Control', 'max-age=60'],
      ['Cache-Control', '   must-revalidate'],
      ['Example-Dict', ' a=1,    b=2;x=1;y=2,   c=(a   b   c)'],
      ['X-Empty-Header', ''],
    ]);
    expect(componentValue(component('x-ows-header'), request, www)).toBe('Leading and trailing whitespace.');
    expect(componentValue(component('cache-control'), request, www)).toBe('max-age=60, must-revalidate');
    expect(componentValue(component('example-dict'), request, www)).toBe('a=1,    b=2;x=1;y=2,   c=(a   b   c)');
    expect(componentValue(component('x-empty-header'), request, www)).toBe('');
  });

  it('derived components of POST /path?param=value to www.example.com', () => {
    const request = view('POST', '/path?param=value', [['Host', 'www.example.com']]);
    expect(componentValue(component('@method'), request, www)).toBe('POST');
    expect(componentValue(component('@target-uri'), request, www)).toBe('https://www.example.com/path?param=value');
    expect(componentValue(component('@authority'), request, www)).toBe('www.example.com');
    expect(componentValue(component('@scheme'), request, { ...www, scheme: 'http' })).toBe('http');
    expect(componentValue(component('@request-target'), request, www)).toBe('/path?param=value');
    expect(componentValue(component('@path'), request, www)).toBe('/path');
  });

  it('@query keeps percent-encoding, and is "?" alone without a query', () => {
    expect(componentValue(component('@query'), view('GET', '/path?param=value&foo=bar&baz=bat%2Dman', []), www)).toBe('?param=value&foo=bar&baz=bat%2Dman');
    expect(componentValue(component('@query'), view('POST', '/path?queryString', []), www)).toBe('?queryString');
    expect(componentValue(component('@query'), view('GET', '/path', []), www)).toBe('?');
  });

  it('@query-param: decoded, then re-encoded with spaces as %20', () => {
    const simple = view('GET', '/path?param=value&foo=bar&baz=batman&qux=', []);
    expect(componentValue(component('@query-param', [['name', 'baz']]), simple, www)).toBe('batman');
    expect(componentValue(component('@query-param', [['name', 'qux']]), simple, www)).toBe('');
    expect(componentValue(component('@query-param', [['name', 'param']]), simple, www)).toBe('value');
    const encoded = view('GET', '/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something', []);
    expect(componentValue(component('@query-param', [['name', 'var']]), encoded, www)).toBe('this%20is%20a%20big%0Amultiline%20value');
    expect(componentValue(component('@query-param', [['name', 'bar']]), encoded, www)).toBe('with%20plus%20whitespace');
    expect(componentValue(component('@query-param', [['name', 'fa%C3%A7ade%22%3A%20']]), encoded, www)).toBe('something');
  });

  it('refuses a query parameter that is missing or repeated, and @status on a request', () => {
    const request = view('GET', '/path?a=1&a=2', []);
    expect(() => componentValue(component('@query-param', [['name', 'b']]), request, www)).toThrow(/no parameter b/);
    expect(() => componentValue(component('@query-param', [['name', 'a']]), request, www)).toThrow(/more than once/);
    expect(() => componentValue(component('@status'), request, www)).toThrow(/not a request component/);
  });
});

describe('RFC 9530 Content-Digest of the test-request', () => {
  it('the sha-512 digest in the header is the digest of the body', () => {
    const check = ContentDigestCheck.parse(TEST_REQUEST.headers['content-digest'] ?? '');
    check?.update(Buffer.from(TEST_REQUEST.body));
    expect(check?.matches()).toBe(true);
  });

  it('another body does not match', () => {
    const check = ContentDigestCheck.parse(TEST_REQUEST.headers['content-digest'] ?? '');
    check?.update(Buffer.from('{"hello": "World"}'));
    expect(check?.matches()).toBe(false);
  });
});
