/**
 * Partner keys on the wire: `ghpk_<id>_<random>` (publishable) and
 * `ghsk_<id>_<random>` (secret). The id (24 hex characters) is public and
 * finds the key; the whole key is checked against its stored SHA-256 hash in
 * constant time. 256 random bits make a slow hash unnecessary: nobody can
 * guess a key from its hash, and a fast one keeps the check cheap per request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NewPartnerKey, PartnerKeyKind } from '../store/store.js';

const PREFIX: Readonly<Record<PartnerKeyKind, string>> = { publishable: 'ghpk_', secret: 'ghsk_' };

/** Prefix, 24 hex id, `_`, 43 canonical base64url characters (32 bytes). */
const KEY_SHAPE = /^gh([ps])k_([0-9a-f]{24})_([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/;

/** A key as presented: its kind and public id, read from its shape alone (nothing is verified yet). */
export interface PresentedPartnerKey {
  readonly kind: PartnerKeyKind;
  readonly id: string;
  readonly value: string;
}

/** SHA-256 of the whole key, base64url: what the store keeps. */
export function hashPartnerKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** A fresh key of `kind`: the value to hand to the partner once, and the record for the store. */
export function generatePartnerKey(kind: PartnerKeyKind, createdAt: number): { readonly value: string; readonly record: NewPartnerKey } {
  const id = randomBytes(12).toString('hex');
  const value = `${PREFIX[kind]}${id}_${randomBytes(32).toString('base64url')}`;
  return { value, record: { id, kind, hash: hashPartnerKey(value), createdAt } };
}

/** The kind and id of a well-formed key, or null for anything else. */
export function parsePartnerKey(value: string | null | undefined): PresentedPartnerKey | null {
  if (typeof value !== 'string' || value.length > 100) return null;
  const match = KEY_SHAPE.exec(value);
  if (match === null) return null;
  return { kind: match[1] === 'p' ? 'publishable' : 'secret', id: match[2] as string, value };
}

/** Whether `value` hashes to `storedHash`, compared in constant time. */
export function partnerKeyMatches(value: string, storedHash: string): boolean {
  const presented = Buffer.from(hashPartnerKey(value), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  // Both are 43-character digests; the length check only keeps timingSafeEqual from throwing on a damaged row.
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
