import { Actor, type ActorAddress } from "../../src/kernel/actors";
import { type ManualClock, manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";

/** The kv key of the stream the probe escalates to (test/actors/escalation-refused.test.ts). */
const ESCALATION = "probe.escalation";

/**
 * A test-only actor with no timers (test/worker.ts exports it; vitest.config.ts binds it as
 * TIMERLESS_PROBE): no `timerMessage`, no `onTimer`, as a module's actor that only keeps rows
 * and emits would be written.
 */
export class TimerlessProbe extends Actor {
  /** Its own clock, so a test can end a pause. */
  private readonly manual: ManualClock;

  constructor(ctx: DurableObjectState, env: Env) {
    const clock = manualClock("2030-01-01T00:00:00Z");
    super(ctx, env, { name: "TimerlessProbe", modules, clock });
    this.manual = clock;
  }

  /** A message that writes nothing: the base's tables exist after it. */
  touch(): Promise<{ ok: true }> {
    return this.receive("touch", () => ({ ok: true as const }));
  }

  /** A message that always fails, counted by the supervision. */
  fail(): Promise<never> {
    return this.receive("fail", () => {
      throw new Error("probe failure");
    });
  }

  /** Where its pauses escalate from now on: `<tenant>/<kind>/<id>`, to the stream's tenant. */
  escalateVia(stream: string): Promise<{ ok: true }> {
    return this.receive("escalateVia", () => {
      this.ctx.storage.kv.put(ESCALATION, stream);
      return { ok: true as const };
    });
  }

  /** Moves the probe's clock. */
  advance(ms: number): void {
    this.manual.advance(ms);
  }

  /** The stream its pauses escalate to, or null. */
  address(): string | null {
    return this.escalationAddress()?.stream ?? null;
  }

  protected override escalationAddress(): ActorAddress | null {
    const stream = this.ctx.storage.kv.get<string>(ESCALATION);
    return stream === undefined ? null : { tenantId: stream.split("/")[0] ?? "", stream };
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

  /** The streams it emitted to, with their versions (the escalations the pauses appended). */
  streams(): { stream: string; version: number }[] {
    return this.ctx.storage.sql
      .exec<{ stream: string; version: number }>("select stream, version from actor_streams order by stream")
      .toArray();
  }
}
