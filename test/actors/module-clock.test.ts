import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clockProbeClock } from "./clock-probe";

// A module's actor tested on a clock the test moves: test/worker.ts builds it over clockProbeClock.
let n = 0;
const reminders = () => env.CLOCK_PROBE.getByName(`reminders-${++n}`);

afterEach(() => clockProbeClock.release());

describe("a module's actor on a settable clock", () => {
  it("fires the reminder at 09:00, not before, when the test moves the clock there", async () => {
    // In the future: an alarm set in the past fires by itself in the test runtime, before the test runs it.
    clockProbeClock.set("2030-01-01T08:00:00Z");
    const stub = reminders();
    await stub.add({ text: "stand-up", at: "2030-01-01T09:00:00Z" });

    clockProbeClock.set("2030-01-01T08:59:59Z");
    await runDurableObjectAlarm(stub);
    expect(await stub.fired({})).toEqual([]);

    clockProbeClock.advance(1_000);
    await runDurableObjectAlarm(stub);
    expect(await stub.fired({})).toEqual(["stand-up"]);
  });

  it("runs at real time while no test set its clock, as src/index.ts builds it", async () => {
    const stub = reminders();
    await stub.add({ text: "now", at: new Date(Date.now() - 1_000).toISOString() });
    // Due already: the runtime may run the alarm itself first, so run it until the handler's row shows.
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(stub);
      expect(await stub.fired({})).toEqual(["now"]);
    });
  });
});
