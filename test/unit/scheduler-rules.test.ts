// The scheduler's two rules, without a runtime: when a cron is due (croner, UTC), and who gets a job's lease.
import { describe, expect, it } from "vitest";
import { cronSchedule, TICK_MS } from "../../src/kernel/jobs/cron";
import { decide, type Lease, type LeaseState } from "../../src/kernel/jobs/lease";

const at = (iso: string) => Date.parse(iso);
/** The fire time a tick at `iso` runs for, or null. */
const due = (cron: string, iso: string) => {
  const fired = cronSchedule(cron).firedIn(at(iso) - TICK_MS, at(iso));
  return fired === null ? null : new Date(fired).toISOString();
};

describe("cron due-ness", () => {
  it("is due on the tick of its minute, for that minute, and on no other tick", () => {
    expect(due("30 2 * * *", "2026-03-01T02:30:00.000Z")).toBe("2026-03-01T02:30:00.000Z");
    expect(due("30 2 * * *", "2026-03-01T02:30:59.999Z")).toBe("2026-03-01T02:30:00.000Z");
    expect(due("30 2 * * *", "2026-03-01T02:31:00.000Z")).toBeNull();
    expect(due("30 2 * * *", "2026-03-01T02:29:59.999Z")).toBeNull();
  });

  it("covers every minute exactly once across consecutive ticks", () => {
    const schedule = cronSchedule("*/7 * * * *");
    const start = at("2026-03-01T00:00:00.000Z");
    const fires: number[] = [];
    for (let t = start; t < start + 3 * 3_600_000; t += TICK_MS) {
      const f = schedule.firedIn(t - TICK_MS, t);
      if (f !== null) fires.push(f);
    }
    // :00 :07 … :56 each hour: 9 a hour.
    expect(fires).toHaveLength(27);
    expect(new Set(fires).size).toBe(27);
  });

  it("reads day-of-month and day-of-week with OR, names and nicknames, in UTC", () => {
    // 13th of the month or a Friday, at noon: Friday 6 March and Friday 13 March (both) and Friday 20 March.
    const schedule = cronSchedule("0 12 13 * fri");
    const fires: string[] = [];
    for (let f = schedule.nextAfter(at("2026-03-01T00:00:00Z")); f !== null && f < at("2026-03-21T00:00:00Z"); ) {
      fires.push(new Date(f).toISOString());
      f = schedule.nextAfter(f);
    }
    expect(fires).toEqual(["2026-03-06T12:00:00.000Z", "2026-03-13T12:00:00.000Z", "2026-03-20T12:00:00.000Z"]);
    expect(due("@hourly", "2026-03-29T01:00:00.000Z")).toBe("2026-03-29T01:00:00.000Z");
  });
});

describe("the lease", () => {
  const fresh: LeaseState = { lastFire: null, held: null };
  const ask = (fire: number, trigger: "cron" | "manual" = "cron", id = `l${fire}`) => ({
    id,
    fire,
    trigger,
    leaseMs: 1_000,
  });
  const granted = (state: LeaseState, a: ReturnType<typeof ask>, now: number) => {
    const d = decide(state, a, now);
    if (!d.granted) throw new Error(`refused: ${d.reason}`);
    return d;
  };

  it("grants a fire time once, refusing the same or an earlier one after it", () => {
    const first = granted(fresh, ask(60_000), 100);
    expect(first.state).toEqual({ lastFire: 60_000, held: first.lease });
    const released = { ...first.state, held: null };
    expect(decide(released, ask(60_000), 200)).toEqual({ granted: false, reason: "already_ran", held: null });
    expect(decide(released, ask(0), 200)).toMatchObject({ granted: false, reason: "already_ran" });
    expect(decide(released, ask(120_000), 200)).toMatchObject({ granted: true, expired: null });
  });

  it("refuses anyone while a lease is held, and hands back a lease that ran out as expired", () => {
    const { state, lease } = granted(fresh, ask(60_000), 100);
    expect(decide(state, ask(60_000), 500)).toEqual({ granted: false, reason: "running", held: lease });
    expect(decide(state, ask(120_000), 1_099)).toMatchObject({ granted: false, reason: "running" });
    expect(decide(state, ask(0, "manual"), 1_099)).toMatchObject({ granted: false, reason: "running" });
    const after = granted(state, ask(120_000), 1_100);
    expect(after.expired).toEqual<Lease>(lease);
    expect(after.lease).toEqual<Lease>({
      id: "l120000",
      fire: 120_000,
      trigger: "cron",
      started_at: 1_100,
      expires_at: 2_100,
    });
  });

  it("lets a manual run go between fire times without standing in for one", () => {
    const cron = granted(fresh, ask(60_000), 100);
    const manual = granted({ ...cron.state, held: null }, ask(90_000, "manual"), 200);
    expect(manual.state.lastFire).toBe(60_000);
    // A due fire time after the manual run's still runs; manual runs are never "already ran".
    expect(decide({ ...manual.state, held: null }, ask(120_000), 300)).toMatchObject({ granted: true });
    expect(decide({ ...manual.state, held: null }, ask(10, "manual"), 300)).toMatchObject({ granted: true });
  });
});
