import { describe, expect, it } from 'vitest';
import { needsXSRFHeader, readXSRFToken } from '../src/xsrf.js';

describe('readXSRFToken', () => {
  it('finds the XSRF-TOKEN cookie among others and decodes it', () => {
    expect(readXSRFToken('a=1; XSRF-TOKEN=abc%2Edef; b=2')).toBe('abc.def');
  });
  it('does not match a cookie whose name merely ends the same way', () => {
    expect(readXSRFToken('MY-XSRF-TOKEN=nope')).toBeUndefined();
  });
  it('returns undefined when absent', () => {
    expect(readXSRFToken('')).toBeUndefined();
  });
});

describe('needsXSRFHeader', () => {
  const page = 'https://app.example.com';
  it('is true for unsafe methods to the same origin, relative or absolute', () => {
    expect(needsXSRFHeader('POST', '/api/notes', page)).toBe(true);
    expect(needsXSRFHeader('delete', 'https://app.example.com/auth/sessions/x', page)).toBe(true);
  });
  it('is false for safe methods', () => {
    expect(needsXSRFHeader('GET', '/api/notes', page)).toBe(false);
  });
  it('never sends the token to another origin', () => {
    expect(needsXSRFHeader('POST', 'https://evil.example/collect', page)).toBe(false);
    expect(needsXSRFHeader('POST', '//evil.example/collect', page)).toBe(false);
    expect(needsXSRFHeader('POST', 'http://app.example.com/api', page)).toBe(false);
  });
});
