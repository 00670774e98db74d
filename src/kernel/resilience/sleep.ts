/**
 * Waiting, passed in like the clock: code that waits takes a {@link Sleeper},
 * production hands in {@link realSleeper}, tests a {@link manualTime} whose
 * sleeps end only when the test moves time on, so a three-day retry schedule
 * runs in a millisecond and in a known order.
 */
import { type ManualClock, manualClock } from "../clock";

/** Something that waits. */
export interface Sleeper {
  /**
   * Resolves after `ms`; rejects with `signal.reason` as soon as `signal`
   * aborts (at once when it already has).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// setTimeout takes a signed 32-bit delay and fires at once past it.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits on the runtime's timers. The one place the kit calls `setTimeout`.
 * Waits longer than a timer can hold are taken in steps; an infinite wait
 * ends only by abort.
 *
 * @example
 * await realSleeper.sleep(250, c.req.raw.signal);
 */
export const realSleeper: Sleeper = {
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const wait = (left: number) => {
        const step = Math.min(left, MAX_TIMER_MS);
        timer = setTimeout(() => {
          if (left > step) wait(left - step);
          else {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          }
        }, step);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (ms === Number.POSITIVE_INFINITY) return;
      wait(Math.max(ms, 0));
    });
  },
};

/** A {@link Sleeper} on another until a test hands it its own, and again once released. */
export interface SettableSleeper extends Sleeper {
  /** Sleeps begun from now on go to `sleeper` (a {@link manualTime}'s) until {@link release}. */
  use(sleeper: Sleeper): void;
  /** Sleeps begun from now on go to the base again; those begun before end as their sleeper ends them. */
  release(): void;
}

/**
 * The sleeper's counterpart of `settableClock` (src/kernel/clock): real waits until a test
 * hands it a {@link manualTime}'s sleeper, so an object the test Worker builds over it runs
 * at real time in every other test, while a test of its waits moves time instead of waiting
 * (test/object-clocks.ts).
 *
 * @example
 * const time = manualTime("2030-01-01T08:00:00Z");
 * idempotencySleeper.use(time.sleeper);
 * await time.advance(20_000); // a 20 s wait in the object ends, at once
 * idempotencySleeper.release(); // afterEach
 */
export function settableSleeper(base: Sleeper = realSleeper): SettableSleeper {
  let held: Sleeper | null = null;
  return {
    sleep: (ms, signal) => (held ?? base).sleep(ms, signal),
    use: (sleeper) => {
      held = sleeper;
    },
    release: () => {
      held = null;
    },
  };
}

/** A clock and a sleeper that stand still until {@link ManualTime.advance} moves them. */
export interface ManualTime {
  /** The time; read it, but move it with `advance` so sleeps wake. */
  clock: ManualClock;
  /** Sleeps that end when `advance` reaches them; a wait of 0 ms or less ends at once. */
  sleeper: Sleeper;
  /**
   * Lets pending microtasks run, then moves time `ms` forward: wakes each
   * sleep due by then in due order
   * (equal times in the order they began), setting the clock to its due time
   * and letting microtasks run after each, so a sleep begun by the woken
   * code is woken in the same call when it falls due in time. Calls made
   * while one runs wait their turn.
   */
  advance(ms: number): Promise<void>;
  /** How many sleeps are waiting. */
  pending(): number;
}

interface Sleep {
  due: number;
  seq: number;
  wake: () => void;
}

// Enough turns for a woken retry loop to run its next attempt and begin its
// next sleep; awaiting real I/O needs the test itself to await it.
const MICROTASK_TURNS = 100;

/**
 * Fake time for tests: `advance` wakes sleeps instead of anyone waiting.
 *
 * @example
 * const time = manualTime("2026-01-01T00:00:00Z");
 * const done = retry(send, { ...policy, clock: time.clock, sleeper: time.sleeper });
 * await time.advance(60_000); // every retry due within the minute has run
 */
export function manualTime(start: Date | string): ManualTime {
  const clock = manualClock(start);
  const sleeps: Sleep[] = [];
  let seq = 0;
  let turn: Promise<void> = Promise.resolve();

  const sleeper: Sleeper = {
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (ms <= 0 || Number.isNaN(ms)) {
          resolve();
          return;
        }
        const entry: Sleep = {
          due: clock.now().getTime() + ms,
          seq: seq++,
          wake: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          remove(entry);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sleeps.push(entry);
      });
    },
  };

  const remove = (entry: Sleep) => {
    const i = sleeps.indexOf(entry);
    if (i >= 0) sleeps.splice(i, 1);
  };

  const next = (by: number): Sleep | undefined => {
    let first: Sleep | undefined;
    for (const s of sleeps) {
      if (s.due > by) continue;
      if (!first || s.due < first.due || (s.due === first.due && s.seq < first.seq)) first = s;
    }
    return first;
  };

  const run = async (ms: number) => {
    // Code already under way (a rejection being handled) may be about to begin a sleep.
    await settle();
    const target = clock.now().getTime() + ms;
    for (let s = next(target); s; s = next(target)) {
      remove(s);
      clock.set(new Date(Math.max(s.due, clock.now().getTime())));
      s.wake();
      await settle();
    }
    clock.set(new Date(target));
    await settle();
  };

  return {
    clock,
    sleeper,
    advance(ms) {
      if (!(ms >= 0)) return Promise.reject(new RangeError(`advance takes ms ≥ 0, got ${ms}`));
      turn = turn.then(() => run(ms));
      return turn;
    },
    pending: () => sleeps.length,
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < MICROTASK_TURNS; i++) await Promise.resolve();
}
