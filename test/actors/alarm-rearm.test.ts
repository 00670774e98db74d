import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProbeActor } from "./probe-actor";

/**
 * workerd takes an alarm set, while an alarm handler runs, to the very time of the running alarm
 * for that alarm, and deletes it once the handler returns: storage still answers that time to
 * getAlarm, but it never fires (docs/actors.md, "The alarm a handler sets"). A webhook endpoint
 * whose delivery scheduled the next one in the same millisecond stalled so for good. So the base
 * never sets the alarm, during a handler, to a time at or before the handler's start.
 */

// In the future: an alarm set in the past fires at once on its own, before a test can run it.
const T0 = Date.parse("2030-01-01T00:00:00Z");
let n = 0;
async function probe() {
  const stub = env.PROBE_ACTOR.getByName(`rearm-${++n}`);
  await stub.setTime({ at: T0 });
  return stub;
}
const alarmAt = (stub: DurableObjectStub<ProbeActor>) =>
  runInDurableObject(stub, (_: ProbeActor, state) => state.storage.getAlarm());
const until = async (stub: DurableObjectStub<ProbeActor>, done: (a: ProbeActor) => boolean) => {
  for (let i = 0; i < 200 && !(await runInDurableObject(stub, done)); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await runInDurableObject(stub, done)).toBe(true);
};

describe("the alarm set while an alarm handler runs", () => {
  it("is after the handler's start when a timer schedules the next one for now", async () => {
    const stub = await probe();
    await stub.later({ note: "first", at: T0, next_note: "second" });
    expect(await alarmAt(stub)).toBe(T0);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // T0 itself would be the alarm that just ran, deleted by workerd after the handler.
    expect(await alarmAt(stub)).toBe(T0 + 1);
    await stub.setTime({ at: T0 + 1 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.notes({})).toEqual(["first", "second"]);
    expect(await alarmAt(stub)).toBeNull();
  });

  it("is after the handler's start when a message that came meanwhile schedules for now", async () => {
    const stub = await probe();
    await stub.later({ note: "held", at: T0 });
    await runInDurableObject(stub, (actor: ProbeActor) => actor.holdTimers());
    const alarm = runDurableObjectAlarm(stub);
    await until(stub, (a) => a.timerHeld());

    // A message (a new webhook delivery, say) while the handler awaits.
    await stub.later({ note: "meanwhile", at: T0 });
    expect(await alarmAt(stub)).toBe(T0 + 1);
    await runInDurableObject(stub, (actor: ProbeActor) => actor.releaseTimers());
    await until(stub, (a) => a.timerWrote());
    await runInDurableObject(stub, (actor: ProbeActor) => actor.finishTimers());
    await alarm;
    expect(await alarmAt(stub)).toBe(T0 + 1);

    // Once the handler is over, a time already past is set as it is: no alarm is running to take it for.
    await stub.setTime({ at: T0 + 1 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.notes({})).toEqual(["held", "meanwhile"]);
    await stub.later({ note: "after", at: T0 });
    expect(await alarmAt(stub)).toBe(T0);
  });
});

describe("an alarm long past its time and never run", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is set again by the next message, as a lost alarm is", async () => {
    const stub = await probe();
    await stub.later({ note: "lost", at: T0 });
    // Nothing runs it, as when workerd lost it: a message within 30 s leaves it be.
    await stub.setTime({ at: T0 + 30_000 });
    await stub.note({ value: "within" });
    expect(await alarmAt(stub)).toBe(T0);

    // Later than that, the next message sets it again, at now, and says so.
    const warned: Record<string, unknown>[] = [];
    vi.spyOn(console, "warn").mockImplementation((line) => void warned.push(JSON.parse(String(line))));
    await stub.setTime({ at: T0 + 30_001 });
    await stub.note({ value: "beyond" });
    expect(await alarmAt(stub)).toBe(T0 + 30_001);
    expect(warned).toEqual([
      expect.objectContaining({ msg: "actor alarm overdue; set again", actor: "ProbeActor", overdue_ms: 30_001 }),
    ]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.notes({})).toEqual(["within", "beyond", "lost"]);
  });
});
