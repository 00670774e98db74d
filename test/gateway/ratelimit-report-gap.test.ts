import { describe, expect, it } from "vitest";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { gateway, principalRecordsThrough } from "./helpers";

/** The real RateLimiter objects, with what each `record` on a principal's object carried. */
function counting() {
  const counts: number[] = [];
  return { counts, binding: principalRecordsThrough((args) => counts.push(args.count)) };
}

/** Waits for `done` on real time (the object's answer is real I/O); fails after 5 s. */
async function settled(done: () => boolean) {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe("the async limiter's report gap", () => {
  it("holds a busy key's next report until the platform's time moves 100 ms on, then sends what came meanwhile", async () => {
    const time = manualTime("2030-01-01T08:00:00Z");
    const { counts, binding } = counting();
    const { call, tenant } = gateway(
      { principal: { limit: 100, period_s: 3600, burst: 100, mode: "async" } },
      { RATE_LIMITER: binding },
      undefined,
      time.sleeper,
    );
    const t = await tenant();
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    // The first admission is reported at once; the flight then pauses on the test's time.
    await settled(() => counts.length === 1 && time.pending() === 1);
    for (let i = 0; i < 3; i++) expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(counts).toEqual([1]);

    await time.advance(99);
    expect(counts).toEqual([1]);
    await time.advance(1);
    // The three that came during the gap go in one report, and the flight pauses again.
    await settled(() => counts.length === 2 && time.pending() === 1);
    expect(counts).toEqual([1, 3]);
    // A gap with nothing new ends the flight: no sleep is left behind.
    await time.advance(100);
    expect(time.pending()).toBe(0);
    expect(counts).toEqual([1, 3]);
  });
});
