// The span processor forgets a trace once it is exported (the library alone keeps every trace's state forever).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tracing } from "../../src/kernel/telemetry";
import { tracesHeld } from "../../src/kernel/telemetry/instrument";

describe("per-trace state", () => {
  it("stays bounded after many traced requests", async () => {
    const requests = 150;
    let peak = 0;
    for (let i = 0; i < requests; i++) {
      const res = await SELF.fetch("http://plinth.test/healthz");
      await res.arrayBuffer();
      peak = Math.max(peak, tracesHeld());
    }
    expect(tracing()).toBe(true);
    // Exports settle a few milliseconds after each request (the library waits 1 ms, then POSTs).
    const deadline = Date.now() + 10_000;
    while (tracesHeld() > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    console.log({ requests, peak, heldAfter: tracesHeld() });
    // Without the pruning processor this is one entry per request (150 and growing); a few may be
    // another test's traces still exporting.
    expect(tracesHeld()).toBeLessThanOrEqual(5);
    expect(peak).toBeLessThan(requests / 2);
  });
});
