import { describe, expect, it } from "vitest";
import { FLIGHT_STUCK_MS } from "../../src/kernel/ratelimit/async-reports";
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

  it("does not leave a key unreported for ever when a flight's call never settles: after FLIGHT_STUCK_MS the next request takes over", async () => {
    // The request that started the flight was torn down under it (its time limit, a test file
    // ending): its call to the object never settles. Its claim stayed for the isolate's life, and
    // every later admission of the key was counted into a report that was never sent.
    const time = manualTime("2030-01-01T08:00:00Z");
    const counts: number[] = [];
    const binding = principalRecordsThrough((args) => counts.push(args.count));
    const hanging = {
      getByName(name: string) {
        const stub = binding.getByName(name);
        return {
          check: stub.check,
          record(args: Parameters<typeof stub.record>[0]) {
            if (!name.startsWith("principal:") || counts.length > 0) return stub.record(args);
            counts.push(args.count);
            return new Promise<never>(() => {});
          },
        };
      },
    };
    const { call, tenant } = gateway(
      { principal: { limit: 100, period_s: 3600, burst: 100, mode: "async" } },
      { RATE_LIMITER: hanging },
      time.clock,
      time.sleeper,
    );
    const t = await tenant();
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => counts.length === 1);
    // Within the bound the flight is taken to be under way: what comes is left to it.
    time.clock.advance(FLIGHT_STUCK_MS - 1);
    for (let i = 0; i < 2; i++) expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(counts).toEqual([1]);
    // Past it, the next admission starts a flight of its own, with what waited.
    time.clock.advance(1);
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => counts.length === 2);
    expect(counts).toEqual([1, 3]);
  });
});
