// A queue batch under a config the Worker would refuse (a variable broken by a deploy): both
// consumers put the whole batch back for a minute and consume nothing, so nothing is lost
// while the operator fixes the variable; the batch is counted, for an alert, and flushed.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import { createQueueRouter } from "../../src/kernel/queues";
import { recordingModule } from "./notes-module";

const clock = manualClock("2026-06-30T12:00:00.000Z");

describe("a queue batch under an invalid config", () => {
  afterEach(() => vi.restoreAllMocks());

  for (const queue of ["plinth-events", "plinth-mail"]) {
    it(`retries all of ${queue}'s batch in a minute, consumes nothing and logs the variable, not its value`, async () => {
      const lines: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
      const { def, seen } = recordingModule(new Set());
      const router = createQueueRouter({ modules: [def], needs: KERNEL_NEEDS, clock });
      const batch = createMessageBatch(queue, [
        { id: "m1", timestamp: new Date(), attempts: 1, body: { any: "thing" } },
        { id: "m2", timestamp: new Date(), attempts: 1, body: { any: "thing" } },
      ]);
      // The test pool's queue result drops delaySeconds, so watch the call itself.
      const retryAll = vi.spyOn(batch, "retryAll");
      const ctx = createExecutionContext();
      // What a deploy could set: the binding's type knows only the values wrangler.toml holds.
      const broken: Env = Object.assign(Object.create(null), env, { LOG_LEVEL: "chatty-s3cr3t" });
      await router(batch, broken, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(retryAll).toHaveBeenCalledWith({ delaySeconds: 60 });
      expect(result.retryBatch.retry).toBe(true);
      expect(result.explicitAcks).toEqual([]);
      expect(seen).toEqual([]);
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.find((l) => l.msg === "config invalid; retrying batch")).toMatchObject({
        queue,
        variables: ["LOG_LEVEL"],
      });
      expect(lines.join("\n")).not.toContain("chatty-s3cr3t");
    });

    it(`counts ${queue}'s batch put back for the config, and its messages as retried, and flushes them`, async () => {
      // A config broken by a deploy stops every consumer; without a count of its own an operator's
      // alerts saw nothing until the backlog showed somewhere else.
      vi.spyOn(console, "error").mockImplementation(() => {});
      const metrics = isolateMetrics();
      const flushes = vi.spyOn(metrics, "maybeFlush");
      const counted = vi.spyOn(metrics.recorder, "inc");
      const router = createQueueRouter({ modules: [], needs: KERNEL_NEEDS, clock });
      const batch = createMessageBatch(queue, [
        { id: "c1", timestamp: new Date(), attempts: 1, body: { any: "thing" } },
        { id: "c2", timestamp: new Date(), attempts: 1, body: { any: "thing" } },
      ]);
      const broken: Env = Object.assign(Object.create(null), env, { LOG_LEVEL: "chatty" });
      await router(batch, broken, createExecutionContext());
      // This batch's counts only: a delivery elsewhere in the isolate may count meanwhile (applied, sent).
      const calls = counted.mock.calls
        .map(([def, labels, by]) => [def.name, [...labels], by ?? 1])
        .filter(
          ([name, labels]) =>
            name === "plinth_queue_batches_config_invalid_total" || String(labels).endsWith(",retried"),
        );
      expect(calls).toEqual([
        ["plinth_queue_batches_config_invalid_total", [queue], 1],
        ["plinth_queue_messages_total", [queue, "retried"], 2],
      ]);
      expect(flushes.mock.calls.filter(([offered]) => offered === broken)).toHaveLength(1);
    });
  }
});
