/**
 * Where Gatehouse reads the time. Every expiry rule goes through a `Clock` so
 * that tests can move time forward instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when told to, for tests and simulations.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.advance(5 * 60_000); // five minutes later
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  constructor(startMs: number = Date.now()) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }
  /** Sets the clock to `ms` milliseconds since the epoch. */
  set(ms: number): void {
    this.#now = ms;
  }
}
