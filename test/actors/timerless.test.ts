import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ActorOptions } from "../../src/kernel/actors";
import { putTimer } from "../../src/kernel/actors/timers";
import { manualClock } from "../../src/kernel/clock";
import { rejection } from "./rejection";
import type { TimerlessProbe } from "./timerless-probe";

const T0 = Date.parse("2030-01-01T00:00:00Z");
let n = 0;

describe("an actor that declares no timers", () => {
  afterEach(() => vi.restoreAllMocks());

  it("takes messages without a timerMessage or an onTimer", async () => {
    expect(await env.TIMERLESS_PROBE.getByName(`timerless-${++n}`).touch()).toEqual({ ok: true });
  });

  // `modules` was optional, and an actor built without it (this probe, the clock probe, the docs'
  // example) emitted to an aggregate's stream unchecked: required, every actor is checked.
  it("is built over the platform's modules, so its emit refuses a stream of an aggregate's kind", async () => {
    // @ts-expect-error an actor's options without `modules` do not type-check
    const withoutModules: ActorOptions = { name: "X", clock: manualClock("2030-01-01T00:00:00Z") };
    expect(withoutModules.name).toBe("X");
    const stub = env.TIMERLESS_PROBE.getByName(`timerless-${++n}`);
    const error = await rejection(stub.escalateTo("t_timerless/post/1"));
    expect(error.message).toMatch(/^StreamOfAggregate: TimerlessProbe emitted to stream "t_timerless\/post\/1"/);
    expect(await stub.escalateTo("t_timerless/timerless/1")).toEqual({ ok: true });
  });

  it("refuses to schedule one, rolling the message back", async () => {
    const stub = env.TIMERLESS_PROBE.getByName(`timerless-${++n}`);
    const error = await rejection(stub.scheduleAnyway());
    expect(error.message).toBe(
      "NoTimers: TimerlessProbe declares no timers: give its options a timerMessage and override onTimer to schedule one",
    );
    const stored = await runInDurableObject(stub, (_: TimerlessProbe, state) => ({
      timers: state.storage.sql.exec<{ n: number }>("select count(*) as n from actor_timers").one().n,
      marks: state.storage.sql.exec<{ n: number }>("select count(*) as n from sqlite_master where name = 'marks'").one()
        .n,
    }));
    expect(stored).toEqual({ timers: 0, marks: 0 });
  });

  // A bug (a timer stored by an older version of the class that had some, or written by hand):
  // no handler could run it, so it is dropped, counted and logged at error, not retried.
  it("drops a timer found on it: logged at error by id and key, not counted against supervision", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    const stub = env.TIMERLESS_PROBE.getByName(`timerless-${++n}`);
    await stub.touch();
    const id = await runInDurableObject(stub, async (_: TimerlessProbe, state) => {
      const timer = putTimer(state.storage.sql, '{"kind":"old"}', T0 - 1_000, { key: "k-old", now: T0 });
      await state.storage.setAlarm(T0 - 1_000);
      return timer;
    });
    await runDurableObjectAlarm(stub);
    const left = await runInDurableObject(
      stub,
      (_: TimerlessProbe, state) =>
        state.storage.sql.exec<{ n: number }>("select count(*) as n from actor_timers").one().n,
    );
    expect(left).toBe(0);
    const dropped = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => /declares no timers/.test(String(l.msg)));
    expect(dropped.map(({ level, actor, timer_id, timer_name }) => ({ level, actor, timer_id, timer_name }))).toEqual([
      { level: "error", actor: "TimerlessProbe", timer_id: id, timer_name: "k-old" },
    ]);
    expect(await runInDurableObject(stub, (actor: TimerlessProbe) => actor.supervisionNow().failures)).toEqual([]);
  });
});
