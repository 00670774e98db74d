// A tenant's webhook delivery bulkhead as its registry lends it: a permit whose holder never
// releases it (an endpoint actor evicted mid-attempt) lapses after the attempt's time limit and
// some slack, on the registry's sleeper, so a test moves time instead of waiting it out.
import { describe, expect, it } from "vitest";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { BulkheadLeases } from "../../src/modules/webhooks/bulkhead-leases";
import { DEFAULT_POLICY } from "../../src/modules/webhooks/domain";

describe("bulkhead leases", () => {
  it("a permit never released lapses on the registry's sleeper, and the next one is granted", async () => {
    const time = manualTime("2030-01-01T00:00:00Z");
    const leases = new BulkheadLeases(time.sleeper);
    const policy = { ...DEFAULT_POLICY, tenantConcurrency: 1, attemptTimeoutMs: 10_000 };
    const kept: Promise<unknown>[] = [];
    const first = await leases.acquire(policy, (p) => kept.push(p));
    expect(first.granted).toBe(true);
    // Its lapse waits on the registry's sleeper (a real timer would outlive the test's time).
    expect(time.pending()).toBe(1);

    // Full: the second waits in the queue, whose 2 s timeout is the same sleeper's.
    const waiting = leases.acquire(policy, (p) => kept.push(p));
    await time.advance(2_000);
    expect(await waiting).toMatchObject({ granted: false });

    // The holder never releases: past the attempt's limit and the slack, the permit is free again.
    await time.advance(15_000);
    await Promise.all(kept);
    const next = await leases.acquire(policy, (p) => kept.push(p));
    expect(next.granted).toBe(true);
  });
});
