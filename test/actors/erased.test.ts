// An actor emptied by its tenant's erasure stays empty: a late call cannot bind it to the
// tenant again, and a timer that was still running when the erasure came (a delivery
// awaiting its receiver) leaves nothing behind when it ends.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProbeActor } from "./probe-actor";
import { rejection } from "./rejection";

const T0 = Date.parse("2030-01-01T00:00:00Z");
let n = 0;
async function probe() {
  const stub = env.PROBE_ACTOR.getByName(`erased-probe-${++n}`);
  await stub.setTime({ at: T0 });
  return stub;
}

const erase = (stub: DurableObjectStub<ProbeActor>) =>
  runInDurableObject(stub, (actor: ProbeActor) => actor.eraseAll({ tenant_id: "t_probe" }));

describe("actor erasure", () => {
  it("refuses to bind its tenant again once erased", async () => {
    const stub = await probe();
    expect(await stub.bind({ tenant_id: "t_probe" })).toEqual({ tenant_id: "t_probe" });
    await erase(stub);
    expect((await rejection(stub.bind({ tenant_id: "t_probe" }))).message).toMatch(/erased/);
    // Refusals are not the actor's failures: past the supervision's limit (3) it is not paused.
    for (let i = 0; i < 4; i++) {
      expect((await rejection(stub.bind({ tenant_id: "t_probe" }))).message).toMatch(/erased/);
    }
    expect(await stub.notes({})).toEqual([]);
    // Erasing again is still a harmless no-op (a rerun of the erasure).
    expect(await erase(stub)).toEqual({ erased: true });
  });

  it("wipes again what a timer still running at the erasure wrote after it, and sets no alarm", async () => {
    const stub = await probe();
    await stub.later({ note: "in flight", at: T0 + 1_000 });
    await stub.later({ note: "queued", at: T0 + 5_000 });
    await stub.setTime({ at: T0 + 1_000 });
    await runInDurableObject(stub, (actor: ProbeActor) => actor.holdTimers());
    const alarm = runDurableObjectAlarm(stub);
    for (let i = 0; i < 200 && !(await runInDurableObject(stub, (a: ProbeActor) => a.timerHeld())); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await runInDurableObject(stub, (a: ProbeActor) => a.timerHeld())).toBe(true);

    await erase(stub);
    await runInDurableObject(stub, (actor: ProbeActor) => actor.releaseTimers());
    for (let i = 0; i < 200 && !(await runInDurableObject(stub, (a: ProbeActor) => a.timerWrote())); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // While the timer still runs, nothing it tried to write is there to read.
    expect(await stub.notes({})).toEqual([]);
    await runInDurableObject(stub, (actor: ProbeActor) => actor.finishTimers());
    await alarm;

    expect(await stub.notes({})).toEqual([]);
    expect(await runInDurableObject(stub, (_: ProbeActor, state) => state.storage.getAlarm())).toBeNull();
    await stub.setTime({ at: T0 + 10_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual([]);
  });
});
