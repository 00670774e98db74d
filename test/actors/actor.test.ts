import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KernelEvents } from "../../src/kernel/events/kernel-events";
import type { ProbeActor } from "./probe-actor";
import { rejection } from "./rejection";

// In the future: an alarm set in the past fires at once on its own, before a test can run it.
const T0 = Date.parse("2030-01-01T00:00:00Z");
let n = 0;
/** A fresh actor per test (storage is shared by the file), its clock at `at`. */
async function probe(at = T0) {
  const stub = env.PROBE_ACTOR.getByName(`probe-${++n}`);
  await stub.setTime({ at });
  return stub;
}
const alarmAt = (stub: DurableObjectStub<ProbeActor>) =>
  runInDurableObject(stub, (_: ProbeActor, state) => state.storage.getAlarm());
const timerOf = (stub: DurableObjectStub<ProbeActor>, key: string) =>
  runInDurableObject(
    stub,
    (_: ProbeActor, state) =>
      state.storage.sql.exec<{ at: number }>("select at from actor_timers where key = ?", key).toArray()[0]?.at ?? null,
  );

describe("actor messages", () => {
  it("commits a handler's writes, timers and events together", async () => {
    const stub = await probe();
    await stub.note({ value: "a" });
    expect(await stub.notes({})).toEqual(["a"]);
    expect(await timerOf(stub, "after:a")).toBe(T0 + 60_000);
    // The alarm is the earliest timer: here the outbox relay's safety net, 30 s after its drain began.
    expect(await alarmAt(stub)).toBe(T0 + 30_000);
    expect((await stub.emitted()).map((e) => e.type)).toEqual(["probe.note.added"]);
  });

  it("counts committed events in plinth_outbox_appended_total by class, as the relay counts them sent", async () => {
    const series = 'plinth_outbox_appended_total{object="ProbeActor"} ';
    const appended = async () => {
      const line = (await (await SELF.fetch("https://plinth.test/metrics")).text())
        .split("\n")
        .find((l) => l.startsWith(series));
      return line ? Number(line.slice(series.length)) : 0;
    };
    const before = await appended();
    const stub = await probe();
    await stub.note({ value: "counted" });
    // A rolled-back handler appended nothing.
    await rejection(stub.note({ value: "rolled back", fail: true }));
    expect((await appended()) - before).toBe(1);

    // A transaction nested in a handler: the count is what the outermost commit kept.
    const nested = await probe();
    const beforeNested = await appended();
    await nested.nested({});
    expect((await nested.emitted()).map((e) => JSON.parse(e.data).value)).toEqual(["a", "b", "c", "e"]);
    expect((await appended()) - beforeNested).toBe(4);
  });

  it("rolls back everything a throwing handler wrote: rows, timers, outbox", async () => {
    const stub = await probe();
    expect((await rejection(stub.note({ value: "x", fail: true }))).message).toMatch(/handler fails after writing/);
    expect(await stub.notes({})).toEqual([]);
    expect(await stub.emitted()).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    const timers = await runInDurableObject(stub, (_: ProbeActor, state) =>
      state.storage.sql.exec("select count(*) as n from actor_timers").one(),
    );
    expect(timers.n).toBe(0);
  });
});

describe("actor timers", () => {
  it("fires many timers over one alarm, in time order, each when due", async () => {
    const stub = await probe();
    await stub.later({ note: "third", at: T0 + 3_000 });
    await stub.later({ note: "first", at: T0 + 1_000 });
    await stub.later({ note: "second", at: T0 + 2_000 });
    expect(await alarmAt(stub)).toBe(T0 + 1_000);

    // An alarm that fires early (the runtime may) runs nothing that is not due.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.notes({})).toEqual([]);
    expect(await alarmAt(stub)).toBe(T0 + 1_000);

    await stub.setTime({ at: T0 + 2_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["first", "second"]);
    expect(await alarmAt(stub)).toBe(T0 + 3_000);

    await stub.setTime({ at: T0 + 10_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["first", "second", "third"]);
    expect(await alarmAt(stub)).toBeNull();
  });

  it("replaces a keyed timer, or keeps the earliest when asked", async () => {
    const stub = await probe();
    await stub.later({ note: "v1", at: T0 + 5_000, key: "k" });
    await stub.later({ note: "v2", at: T0 + 9_000, key: "k" });
    expect(await alarmAt(stub)).toBe(T0 + 9_000);
    await stub.setTime({ at: T0 + 10_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["v2"]);
  });

  it("fires a timer after the object was evicted, from storage", async () => {
    const stub = await probe();
    await stub.later({ note: "survives", at: T0 + 1_000 });
    await rejection(stub.evict());
    const fresh = env.PROBE_ACTOR.getByName(`probe-${n}`);
    await fresh.setTime({ at: T0 + 1_000 });
    expect(await runDurableObjectAlarm(fresh)).toBe(true);
    expect(await fresh.notes({})).toEqual(["survives"]);
  });

  it("fires a timer whose handler threw again, at least once more, after a backoff", async () => {
    const stub = await probe();
    await stub.later({ note: "flaky", at: T0, fail: true });
    await runDurableObjectAlarm(stub);
    // The handler wrote in its own transaction before throwing: at-least-once means it runs again.
    expect(await stub.notes({})).toEqual(["flaky"]);
    const retryAt = await alarmAt(stub);
    // timerRetry is 100 ms with jitter pinned near the ceiling.
    expect(retryAt).toBeGreaterThan(T0);
    expect(retryAt).toBeLessThanOrEqual(T0 + 100);
    await stub.setTime({ at: T0 + 100 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["flaky", "flaky"]);
    expect(await alarmAt(stub)).toBeNull();
  });
});

describe("actor supervision", () => {
  afterEach(() => vi.restoreAllMocks());

  it("names the failing actor's tenant and stream in its log lines, not only its class", async () => {
    // "actor handler failed" said {"actor":"WebhookEndpoint"}: of a tenant's many endpoints, which?
    const lines: Record<string, unknown>[] = [];
    const keep = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    vi.spyOn(console, "warn").mockImplementation(keep);
    vi.spyOn(console, "error").mockImplementation(keep);
    const stub = await probe();
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: `bad${i}`, fail: true }));
    const failures = lines.filter(
      (l) => l.msg === "actor handler failed" || String(l.msg).startsWith("actor failed too often"),
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) expect(line).toMatchObject({ tenant_id: "t_probe", stream: "t_probe/probe/1" });
  });

  it("adds no line with a stack to a ConfigError logged where it was met: one backoff line names the variable", async () => {
    // A retired key version met at each delivery was logged twice, the second time as
    // "actor handler failed" with the stack of the code that met it, as for a bug.
    const lines: Record<string, unknown>[] = [];
    const keep = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    vi.spyOn(console, "warn").mockImplementation(keep);
    vi.spyOn(console, "error").mockImplementation(keep);
    const stub = await probe();
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: `unopened${i}`, fail: "config" }));
    vi.restoreAllMocks();
    expect(lines.filter((l) => l.msg === "actor handler failed")).toEqual([]);
    const backoff = lines.filter((l) => String(l.msg).startsWith("actor failed too often"));
    expect(backoff).toHaveLength(1);
    expect(backoff[0]).toMatchObject({ variable: "ENCRYPTION_KEYS", error_name: "MissingKeyVersion" });
    expect(backoff[0]).not.toHaveProperty("stack");
  });

  it("backs off after too many failures in the window, escalates, then restarts from storage", async () => {
    const stub = await probe();
    await stub.note({ value: "kept" });
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: `bad${i}`, fail: true }));

    // Paused: messages are refused until the backoff (1 s for the first restart) ends.
    expect((await rejection(stub.note({ value: "refused" }))).message).toMatch(/backing off/);
    const sup = await runInDurableObject(stub, (actor: ProbeActor) => actor.supervisionNow());
    expect(sup.pausedUntil).toBe(T0 + 1_000);
    expect(sup.restarts).toBe(1);
    const escalated = (await stub.emitted()).filter((e) => e.type === "actor.escalated");
    expect(escalated).toHaveLength(1);
    expect(JSON.parse(escalated[0]?.data ?? "{}")).toMatchObject({ actor: "ProbeActor", handler: "note", restarts: 1 });
    // As the kernel declares it, the type and data a webhook filter or subscription naming it receives.
    const declared = KernelEvents.safeParse({ type: "actor.escalated", data: JSON.parse(escalated[0]?.data ?? "{}") });
    expect(declared.success, JSON.stringify(declared.error?.issues)).toBe(true);

    const startsBefore = await runInDurableObject(stub, (actor: ProbeActor) => actor.starts);
    await stub.setTime({ at: T0 + 1_000 });
    await stub.note({ value: "after" });
    const after = await runInDurableObject(stub, (actor: ProbeActor) => ({
      starts: actor.starts,
      cached: actor.cached,
      sup: actor.supervisionNow(),
    }));
    // Restarted: onStart ran again and rebuilt the cache from what storage held.
    expect(after.starts).toBe(startsBefore + 1);
    expect(after.cached).toEqual(["kept"]);
    expect(after.sup).toMatchObject({ pausedUntil: null, restarts: 0 });
    expect(await stub.notes({})).toEqual(["kept", "after"]);
  });

  it("doubles the pause on consecutive restarts without a success", async () => {
    const stub = await probe();
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: "x", fail: true }));
    await stub.setTime({ at: T0 + 1_000 });
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: "y", fail: true }));
    const sup = await runInDurableObject(stub, (actor: ProbeActor) => actor.supervisionNow());
    expect(sup.restarts).toBe(2);
    expect(sup.pausedUntil).toBe(T0 + 1_000 + 2_000);
  });

  it("forgets failures older than the window", async () => {
    const stub = await probe();
    for (let i = 0; i < 2; i++) await rejection(stub.note({ value: "x", fail: true }));
    await stub.setTime({ at: T0 + 10_001 });
    expect((await rejection(stub.note({ value: "y", fail: true }))).message).toMatch(/handler fails/);
    expect(await stub.notes({})).toEqual([]);
    await stub.note({ value: "ok" });
    expect(await stub.notes({})).toEqual(["ok"]);
  });

  it("holds timers while paused and runs them after the pause", async () => {
    const stub = await probe();
    await stub.later({ note: "waits", at: T0 + 100 });
    for (let i = 0; i < 3; i++) await rejection(stub.note({ value: "x", fail: true }));
    expect(await alarmAt(stub)).toBe(T0 + 1_000);
    await stub.setTime({ at: T0 + 500 });
    await runDurableObjectAlarm(stub);
    await stub.setTime({ at: T0 + 1_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["waits"]);
  });
});

describe("a stored timer whose message no longer parses", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is dropped and logged once, by id and key, without its content; the others still run", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void lines.push(String(line)));
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    const stub = await probe();
    await stub.later({ note: "corrupt", at: T0 + 1_000, key: "k-corrupt" });
    await stub.later({ note: "reshaped", at: T0 + 1_000, key: "k-reshaped" });
    await stub.later({ note: "fine", at: T0 + 2_000 });
    // Not JSON (its SyntaxError would quote it), and JSON of another shape (its ZodError path).
    const ids = await runInDurableObject(stub, (_: ProbeActor, state) => {
      const sql = state.storage.sql;
      sql.exec(`update actor_timers set message = '{"note": "timer-MARK' where key = 'k-corrupt'`);
      sql.exec(`update actor_timers set message = '{"other": "timer-MARK"}' where key = 'k-reshaped'`);
      return sql.exec<{ id: string; key: string }>("select id, key from actor_timers where key like 'k-%'").toArray();
    });
    expect(ids).toHaveLength(2);

    await stub.setTime({ at: T0 + 2_000 });
    await runDurableObjectAlarm(stub);
    expect(await stub.notes({})).toEqual(["fine"]);
    expect(await timerOf(stub, "k-corrupt")).toBeNull();
    expect(await timerOf(stub, "k-reshaped")).toBeNull();

    const dropped = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => /unreadable/.test(String(l.msg)));
    expect(dropped.map(({ level, timer_id, timer_name }) => ({ level, timer_id, timer_name }))).toEqual(
      expect.arrayContaining(ids.map(({ id, key }) => ({ level: "error", timer_id: id, timer_name: key }))),
    );
    expect(dropped).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain("MARK");
    // Dropped, not failed: retrying cannot make it parse, so supervision does not count it.
    expect(await runInDurableObject(stub, (actor: ProbeActor) => actor.supervisionNow().restarts)).toBe(0);
  });
});
