import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { HandlerlessProbe } from "./handlerless-probe";

let n = 0;

// An actor that gives a timerMessage but no onTimer reaches the base's default, which throws
// NoTimers: a failure, retried, so the timers stored meanwhile run once a deploy adds the handler.
describe("an actor with a timerMessage and no onTimer", () => {
  afterEach(() => vi.restoreAllMocks());

  it("fails its timer with NoTimers, keeps it for a retry, and a later handler runs it", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void lines.push(String(line)));
    const stub = env.HANDLERLESS_PROBE.getByName(`handlerless-${++n}`);
    await stub.later("a");
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const [timer] = await stub.timers();
    // Retried after the default timer retry's backoff (1 s ceiling at the first attempt, jitter pinned).
    expect(timer).toMatchObject({ message: '{"note":"a"}', attempts: 1, at: Date.parse("2030-01-01T00:00:00Z") + 999 });
    expect((await stub.supervisionNow()).failures).toHaveLength(1);
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "actor handler failed" && l.actor === "HandlerlessProbe");
    expect(failed.map(({ handler, error_name, error_message }) => ({ handler, error_name, error_message }))).toEqual([
      {
        handler: "timer",
        error_name: "NoTimers",
        error_message: "HandlerlessProbe declares a timerMessage but no onTimer: override it to handle its timers",
      },
    ]);

    // The deploy that adds the handler: the stored timer is run by it, then gone.
    const ran = await runInDurableObject(stub, async (actor: HandlerlessProbe, state) => {
      const seen: unknown[] = [];
      Object.assign(actor, { onTimer: (message: unknown) => void seen.push(message) });
      // Due at its retry time: the probe's clock stands still, so the row is moved back to now.
      state.storage.sql.exec("update actor_timers set at = 0");
      await actor.alarm();
      return seen;
    });
    expect(ran).toEqual([{ note: "a" }]);
    expect(await stub.timers()).toEqual([]);
  });
});
