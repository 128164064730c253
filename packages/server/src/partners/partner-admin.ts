/**
 * Managing partners (the CLI's `gatehouse partner …`): registering one with
 * its origins and scopes, rotating and revoking its keys. Inputs are checked
 * here, so the store only ever holds exact origins and well-formed scopes.
 */
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { PartnerKeyKind, PartnerKeyRecord, PartnerRecord, Store } from '../store/store.js';
import { generatePartnerKey } from './partner-key.js';

const PARTNER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** `catalog:read`, `prices`: letters, digits and `: . _ -`, as in OAuth scope tokens but narrower. */
const SCOPE = /^[A-Za-z0-9:._-]{1,64}$/;

/** Why `id` is not a partner id, or null. */
export function partnerIdProblem(id: string): string | null {
  return PARTNER_ID.test(id) ? null : 'a partner id is 1-63 lower-case letters, digits and -, starting with a letter or digit';
}

/**
 * `value` as an exact origin (`scheme://host[:port]`), or a sentence saying
 * why not. Only https, or http on a loopback host (for development); no
 * path, query, wildcard or credentials: a publishable key is valid on
 * exactly the origins listed.
 */
export function normalisePartnerOrigin(value: string): { readonly origin: string } | { readonly problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `${JSON.stringify(value)} is not an origin such as https://shop.example.com` };
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return { problem: `${url.origin}: an origin must be https (http only for localhost)` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || value.includes('*')) {
    return { problem: `${JSON.stringify(value)}: an origin is scheme://host[:port] and nothing else` };
  }
  return { origin: url.origin };
}

/** Why a scope list is not acceptable, or null. */
export function scopesProblem(scopes: readonly string[]): string | null {
  if (scopes.length === 0) return 'a partner needs at least one scope (--scope)';
  const bad = scopes.find((s) => !SCOPE.test(s));
  return bad === undefined ? null : `${JSON.stringify(bad)} is not a scope (1-64 letters, digits and : . _ -)`;
}

/** A new partner and the keys to hand over once (they are not stored, only their hashes). */
export interface AddedPartner {
  readonly partner: PartnerRecord;
  readonly publishableKey: string;
  readonly secretKey: string;
}

/** A rotation's outcome: the new key (shown once) and when the old ones stop. */
export interface RotatedPartnerKey {
  readonly partner: PartnerRecord;
  readonly key: string;
  readonly keyId: string;
  readonly oldKeysEndAt: number;
}

export class PartnerAdmin {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #onRevoked: (keyId: string) => void;
  readonly #onChanged: () => Promise<void>;

  /**
   * `onRevoked` tells the running instances (the key registry's feed), after the store recorded it.
   * `onChanged` lets this instance's registry read a new partner or key at once (the others read it at their next poll).
   */
  constructor(store: Store, clock: Clock, onRevoked: (keyId: string) => void, onChanged: () => Promise<void> = async () => undefined) {
    this.#store = store;
    this.#clock = clock;
    this.#onRevoked = onRevoked;
    this.#onChanged = onChanged;
  }

  /** Lets this instance's registry catch up; a failed read is the poller's to retry, not the caller's error. */
  async #changed(): Promise<void> {
    await this.#onChanged().catch(() => undefined);
  }

  /**
   * Registers a partner with one publishable and one secret key. Throws a
   * `TypeError` naming the bad input; rejects with `PARTNER_ID_TAKEN`.
   */
  async add(input: { readonly id: string; readonly name?: string; readonly origins: readonly string[]; readonly scopes: readonly string[] }): Promise<AddedPartner> {
    const problems: string[] = [];
    const idProblem = partnerIdProblem(input.id);
    if (idProblem !== null) problems.push(idProblem);
    if (input.origins.length === 0) problems.push('a partner needs at least one origin (--origin)');
    const origins: string[] = [];
    for (const value of input.origins) {
      const result = normalisePartnerOrigin(value);
      if ('problem' in result) problems.push(result.problem);
      else if (!origins.includes(result.origin)) origins.push(result.origin);
    }
    const scopeProblem = scopesProblem(input.scopes);
    if (scopeProblem !== null) problems.push(scopeProblem);
    if (problems.length > 0) throw new TypeError(problems.join('; '));
    const now = this.#clock.now();
    const publishable = generatePartnerKey('publishable', now);
    const secret = generatePartnerKey('secret', now);
    const partner = await this.#store.createPartner(
      { id: input.id, name: input.name ?? input.id, origins, scopes: [...new Set(input.scopes)], createdAt: now },
      [publishable.record, secret.record],
    );
    await this.#changed();
    return { partner, publishableKey: publishable.value, secretKey: secret.value };
  }

  list(): Promise<PartnerRecord[]> {
    return this.#store.listPartners();
  }

  /**
   * A new key of `kind` for the partner; its current keys of that kind keep
   * working for `overlapSeconds` more (0: they stop now). Rejects with `PARTNER_NOT_FOUND`.
   */
  async rotate(partnerId: string, kind: PartnerKeyKind, overlapSeconds: number): Promise<RotatedPartnerKey> {
    if (!Number.isSafeInteger(overlapSeconds) || overlapSeconds < 0) throw new TypeError('the overlap is a whole number of seconds, 0 or more');
    const now = this.#clock.now();
    const next = generatePartnerKey(kind, now);
    const oldKeysEndAt = now + overlapSeconds * 1000;
    const partner = await this.#store.rotatePartnerKey(partnerId, next.record, oldKeysEndAt, now);
    await this.#changed();
    return { partner, key: next.value, keyId: next.record.id, oldKeysEndAt };
  }

  /** Revokes a key now, on every instance. Rejects with `PARTNER_KEY_NOT_FOUND`. */
  async revoke(keyId: string): Promise<PartnerKeyRecord> {
    const key = await this.#store.revokePartnerKey(keyId, this.#clock.now());
    if (key === null) throw new GatehouseError('PARTNER_KEY_NOT_FOUND');
    this.#onRevoked(keyId);
    return key;
  }
}
