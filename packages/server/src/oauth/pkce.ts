/** PKCE (RFC 7636), S256 only: `plain` is refused wherever a method is named. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A code verifier or challenge: 43-128 unreserved characters (RFC 7636 §4.1, §4.2). */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

/** Whether `challenge` is a well-formed S256 challenge (43 base64url characters, a SHA-256). */
export function isS256Challenge(challenge: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(challenge);
}

/** Whether `verifier` hashes to `challenge` under S256, compared in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!PKCE_VALUE.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
