import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";

const Timer = z.object({ note: z.string() });

/**
 * A test-only actor that gives a `timerMessage` but overrides no `onTimer` (test/worker.ts exports
 * it; vitest.config.ts binds it as HANDLERLESS_PROBE), as a deploy that schedules timers before the
 * one adding their handler: the base's default `onTimer` throws NoTimers (test/actors/handlerless.test.ts).
 */
export class HandlerlessProbe extends Actor<z.infer<typeof Timer>> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, {
      name: "HandlerlessProbe",
      timerMessage: Timer,
      modules,
      clock: manualClock("2030-01-01T00:00:00Z"),
      // The default timer retry's jitter pinned near its top: a retry's time is known.
      random: () => 0.999,
    });
  }

  /** Schedules a timer due now (the probe's clock stands still). */
  later(note: string): Promise<{ timer: string }> {
    return this.receive("later", () => ({ timer: this.schedule({ note }, this.now()) }));
  }

  /** The stored timers: what is still to run, and how often it was tried. */
  timers(): { message: string; attempts: number; at: number }[] {
    this.ready();
    return this.ctx.storage.sql
      .exec<{ message: string; attempts: number; at: number }>(
        "select message, attempts, at from actor_timers order by at",
      )
      .toArray();
  }

  /** Test access to the base's supervision state. */
  supervisionNow() {
    return this.supervisionState();
  }
}
