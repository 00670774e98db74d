// An actor's timers that ran show on /metrics as plinth_actor_timers_fired_total{actor}: before,
// a module's actor timer (an invoice's overdue reminder under npm start) left no sign outside the
// object's own SQLite that it had fired.
import { runDurableObjectAlarm, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const T0 = Date.parse("2031-01-01T00:00:00Z");
const SERIES = 'plinth_actor_timers_fired_total{actor="ProbeActor"} ';

async function fired(): Promise<number> {
  const text = await (await SELF.fetch("https://plinth.test/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(SERIES));
  return line ? Number(line.slice(SERIES.length)) : 0;
}

describe("plinth_actor_timers_fired_total", () => {
  it("counts each timer whose handler returned, by actor class; one that threw counts when its retry succeeds", async () => {
    const stub = env.PROBE_ACTOR.getByName("timer-metrics-1");
    await stub.setTime({ at: T0 });
    const before = await fired();
    await stub.later({ note: "done", at: T0 + 500 });
    await stub.later({ note: "flaky", at: T0 + 1_000, fail: true });
    await stub.setTime({ at: T0 + 1_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["done", "flaky"]);
    expect((await fired()) - before).toBe(1);

    await stub.setTime({ at: T0 + 2_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["done", "flaky", "flaky"]);
    expect((await fired()) - before).toBe(2);
  });
});
