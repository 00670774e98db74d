import { describe, expect, it } from "vitest";
import { type Clock, settableClock } from "../../src/kernel/clock";

// A base a test controls, standing in for the system clock the settable clock follows.
const ticking = (start: string) => {
  let at = Date.parse(start);
  const clock: Clock = { now: () => new Date(at) };
  return { clock, tick: (ms: number) => (at += ms) };
};

describe("settableClock", () => {
  it("follows its base until a test sets it, then stands still where set", () => {
    const base = ticking("2026-05-01T12:00:00Z");
    const clock = settableClock(base.clock);
    base.tick(1_000);
    expect(clock.now().toISOString()).toBe("2026-05-01T12:00:01.000Z");
    clock.set("2030-01-01T08:00:00Z");
    base.tick(60_000);
    expect(clock.now().toISOString()).toBe("2030-01-01T08:00:00.000Z");
    clock.advance(3_600_000);
    expect(clock.now().toISOString()).toBe("2030-01-01T09:00:00.000Z");
  });

  it("advances from its base's time when not set, and follows the base again once released", () => {
    const base = ticking("2026-05-01T12:00:00Z");
    const clock = settableClock(base.clock);
    clock.advance(500);
    base.tick(10_000);
    expect(clock.now().toISOString()).toBe("2026-05-01T12:00:00.500Z");
    clock.release();
    expect(clock.now().toISOString()).toBe("2026-05-01T12:00:10.000Z");
  });
});
