/**
 * Wall-clock time, passed in rather than read: routes find it on the context
 * (`c.get("clock")`), jobs and subscribers in their runtime, Durable Objects in
 * the platform's clock their class is built over (`aggregateObject(platform)`), deciders
 * in their `DecideContext.now`. Tests hand in a
 * {@link manualClock} and move it, instead of waiting.
 *
 * @example
 * const expiresAt = new Date(c.get("clock").now().getTime() + 3_600_000).toISOString();
 */
export interface Clock {
  now(): Date;
}

/**
 * The runtime's clock. The one place plinth reads the time of day; in a
 * Worker it advances only across I/O, as the platform intends.
 */
export const systemClock: Clock = { now: () => new Date() };

/** The clock's time as RFC 3339 UTC, the form every stored time has. */
export const isoNow = (clock: Clock): string => clock.now().toISOString();

/** The clock's time plus `ms`, as RFC 3339 UTC. */
export const isoIn = (clock: Clock, ms: number): string => new Date(clock.now().getTime() + ms).toISOString();

/** A clock a test sets and advances by hand. */
export interface ManualClock extends Clock {
  set(at: Date | string): void;
  advance(ms: number): void;
}

/**
 * A clock that stands still until moved.
 *
 * @example
 * const clock = manualClock("2026-01-01T00:00:00Z");
 * clock.advance(10_000); // ten seconds later, at once
 */
export function manualClock(start: Date | string): ManualClock {
  let at = new Date(start).getTime();
  return {
    now: () => new Date(at),
    set: (to) => {
      at = new Date(to).getTime();
    },
    advance: (ms) => {
      at += ms;
    },
  };
}

/** A {@link ManualClock} that follows another clock until set, and again once released. */
export interface SettableClock extends ManualClock {
  /** Follows the base clock again. */
  release(): void;
}

/**
 * A clock on real time until a test sets it: the one a module's Durable Object is built over
 * in the test Worker (test/worker.ts), so the module's other tests run at real time as
 * deployed, while a test of its timers sets the time, moves it, and releases it after.
 * `advance` on a clock not set starts from the base's time.
 *
 * @example
 * remindersClock.set("2030-01-01T08:00:00Z"); // in the future: see docs/actors.md
 * remindersClock.advance(3_600_000);          // 09:00, at once
 * remindersClock.release();                   // afterEach
 */
export function settableClock(base: Clock = systemClock): SettableClock {
  let at: number | null = null;
  return {
    now: () => (at === null ? base.now() : new Date(at)),
    set: (to) => {
      at = new Date(to).getTime();
    },
    advance: (ms) => {
      at = (at ?? base.now().getTime()) + ms;
    },
    release: () => {
      at = null;
    },
  };
}
