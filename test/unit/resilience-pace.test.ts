// The Pacer that spaces a busy writer's round trips (outbox drains, inline projection passes).
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { Pacer } from "../../src/kernel/resilience/pace";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { track } from "./track";

const START = "2026-01-01T00:00:00Z";

describe("Pacer", () => {
  it("lets the first turn and a turn after a quiet spell go at once", async () => {
    const time = manualTime(START);
    const pacer = new Pacer(20, time.clock, time.sleeper);
    const first = track(pacer.turn());
    await Promise.resolve();
    expect(first.settled).toBe(true);
    await time.advance(20);
    const later = track(pacer.turn());
    await Promise.resolve();
    expect(later.settled).toBe(true);
    expect(time.pending()).toBe(0);
  });

  it("holds a turn that comes too soon until the pace has passed since the last one began", async () => {
    const time = manualTime(START);
    const pacer = new Pacer(20, time.clock, time.sleeper);
    await pacer.turn();
    await time.advance(5);
    const soon = track(pacer.turn());
    await time.advance(14);
    expect(soon.settled).toBe(false);
    await time.advance(1);
    expect(soon).toEqual({ settled: true, error: undefined });
    // The held turn counts from when it went (20 ms after the first), not from when it asked.
    const next = track(pacer.turn());
    await time.advance(19);
    expect(next.settled).toBe(false);
    await time.advance(1);
    expect(next.settled).toBe(true);
  });

  it("never waits with a pace of 0, and never longer than the pace on a clock that does not move", async () => {
    const time = manualTime(START);
    const none = new Pacer(0, time.clock, time.sleeper);
    for (let i = 0; i < 3; i++) await none.turn();
    expect(time.pending()).toBe(0);

    const frozen = manualClock(START);
    const slept: number[] = [];
    const pacer = new Pacer(20, frozen, { sleep: async (ms) => void slept.push(ms) });
    for (let i = 0; i < 3; i++) await pacer.turn();
    expect(slept).toEqual([20, 20]);
  });
});
