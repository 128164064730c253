/**
 * DPoP server nonces (RFC 9449 §8, §9) without state: a nonce is the number
 * of a time period and an HMAC of it, so every instance that shares the
 * secret makes and accepts the same nonces, and nothing is stored or synced.
 * A nonce is accepted in its own period and the next, so a client that
 * fetched one just before a period ends still has a full period to use it.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';

/** `<period in base 36>.<HMAC-SHA256, base64url>`: only characters RFC 9449's NQCHAR allows. */
const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

export class DPoPNonces {
  readonly #key: KeyObject;
  readonly #clock: Clock;
  readonly #periodMs: number;

  /** @param lifetimeSeconds the length of one period (`dpop.nonceLifetimeSeconds`). */
  constructor(key: KeyObject, lifetimeSeconds: number, clock: Clock) {
    if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds <= 0) throw new TypeError('lifetimeSeconds: a positive whole number');
    this.#key = key;
    this.#clock = clock;
    this.#periodMs = lifetimeSeconds * 1000;
  }

  /** The nonce of the current period, for a `DPoP-Nonce` header. */
  current(): string {
    const period = this.#period();
    return `${period.toString(36)}.${this.#mac(period).toString('base64url')}`;
  }

  /** True for a nonce this server made in the current or the previous period. */
  accepts(nonce: unknown): boolean {
    if (typeof nonce !== 'string') return false;
    const match = NONCE.exec(nonce);
    if (match === null) return false;
    const period = Number.parseInt(match[1] ?? '', 36);
    const now = this.#period();
    if (period !== now && period !== now - 1) return false;
    const given = Buffer.from(match[2] ?? '', 'base64url');
    const expected = this.#mac(period);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #period(): number {
    return Math.floor(this.#clock.now() / this.#periodMs);
  }

  #mac(period: number): Buffer {
    return createHmac('sha256', this.#key).update(`dpop-nonce:${period}`).digest();
  }
}
