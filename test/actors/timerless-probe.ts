import { Actor } from "../../src/kernel/actors";
import { manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";

/**
 * A test-only actor with no timers (test/worker.ts exports it; vitest.config.ts binds it as
 * TIMERLESS_PROBE): no `timerMessage`, no `onTimer`, as a module's actor that only keeps rows
 * and emits would be written.
 */
export class TimerlessProbe extends Actor {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { name: "TimerlessProbe", modules, clock: manualClock("2030-01-01T00:00:00Z") });
  }

  /** A message that writes nothing: the base's tables exist after it. */
  touch(): Promise<{ ok: true }> {
    return this.receive("touch", () => ({ ok: true as const }));
  }

  /** Schedules past its type (which refuses any message): the base refuses it too, at once. */
  scheduleAnyway(): Promise<{ ok: true }> {
    return this.receive("scheduleAnyway", () => {
      this.ctx.storage.sql.exec("create table if not exists marks (id integer primary key)");
      this.ctx.storage.sql.exec("insert into marks default values");
      this.schedule(undefined as never, 0);
      return { ok: true as const };
    });
  }

  /** Emits the base's own event to `stream`: refused when its kind is an aggregate's (the options' `modules`). */
  escalateTo(stream: string): Promise<{ ok: true }> {
    return this.receive("escalateTo", () => {
      this.emit({ tenantId: "t_timerless", stream }, { type: "actor.escalated", data: {} });
      return { ok: true as const };
    });
  }

  /** Test access to the base's supervision state. */
  supervisionNow() {
    return this.supervisionState();
  }
}
