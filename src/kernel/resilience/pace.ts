import type { Clock } from "../clock";
import { realSleeper, type Sleeper } from "./sleep";

/**
 * Spaces the starts of a repeated piece of work at least `paceMs` apart:
 * `turn()` resolves at once when the last turn began `paceMs` ago or more,
 * otherwise when that much time has passed since it began. A writer that
 * batches whatever arrived while it waited (the outbox relay, the inline
 * projection pass) then does one round trip per `paceMs` under load, and
 * still answers a lone event at once. `paceMs` 0 never waits.
 *
 * @example
 * const pacer = new Pacer(20, clock);
 * for (;;) { await pacer.turn(); sendEverythingPending(); }
 */
export class Pacer {
  /** When the last turn began (ms). */
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly paceMs: number,
    private readonly clock: Clock,
    private readonly sleeper: Sleeper = realSleeper,
  ) {}

  async turn(): Promise<void> {
    if (this.paceMs > 0) {
      // Bounded by the pace itself, so a clock that does not move (a test's) cannot stall the work.
      const wait = Math.min(this.last + this.paceMs - this.clock.now().getTime(), this.paceMs);
      if (wait > 0) await this.sleeper.sleep(wait);
    }
    this.last = this.clock.now().getTime();
  }
}
