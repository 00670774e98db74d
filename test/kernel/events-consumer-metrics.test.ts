// Every way out of the events consumer flushes what its batch counted towards /metrics: the
// retries of an outage (the tenant registry or the ledger unreadable, D1 refusing the
// dead-letter store) are what an operator must see, on whichever isolate serves the batch.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { d1Down, unreadableRegistry } from "../notify/helpers";
import { recordingModule } from "./notes-module";

afterEach(() => vi.restoreAllMocks());

const clock = manualClock("2026-06-30T12:00:00.000Z");

let n = 0;
// The files a test worker runs share one D1 (vitest.config.ts): this file's tenant is its own.
const TENANT = `t-metrics-${crypto.randomUUID().slice(0, 8)}`;
/** An event of this file's tenant as writers send it. */
const event = () => ({
  id: `metrics-e-${++n}`,
  type: "notes.note.created",
  tenant_id: TENANT,
  stream: `${TENANT}/note/n1`,
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: { title: "t" },
});

/** Runs the events consumer of `modules` on two messages of `queue`; the flushes offered and the outcomes counted meanwhile. */
async function consumeCounting(queue: string, modules: ModuleDef[], batchEnv: Env = { ...env }) {
  const metrics = isolateMetrics();
  const flushes = vi.spyOn(metrics, "maybeFlush");
  const counted = vi.spyOn(metrics.recorder, "inc");
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "info").mockImplementation(() => {});
  const batch = createMessageBatch(queue, [
    { id: `metrics-m-${++n}`, timestamp: new Date(), attempts: 1, body: event() },
    { id: `metrics-m-${++n}`, timestamp: new Date(), attempts: 1, body: event() },
  ]);
  const ctx = createExecutionContext();
  await createQueueHandler({ modules, needs: KERNEL_NEEDS, clock })(batch, batchEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    result,
    // Only this run's offers (by its env): anything else finishing in the isolate offers one too.
    flushes: flushes.mock.calls.filter(([offered]) => offered === batchEnv).length,
    retried: counted.mock.calls.filter(
      ([def, labels]) => def.name === "plinth_queue_messages_total" && labels[1] === "retried",
    ).length,
  };
}

describe("the events consumer's metrics", () => {
  it("flushes what an applied batch counted", async () => {
    const { def } = recordingModule(new Set());
    const seen = await consumeCounting("plinth-events", [def]);
    expect(seen.result.explicitAcks).toHaveLength(2);
    expect(seen.flushes).toBe(1);
  });

  it("counts and flushes the retries of a batch whose tenant registry is unreadable", async () => {
    const { def } = recordingModule(new Set());
    const seen = await consumeCounting("plinth-events", [def, unreadableRegistry]);
    expect(seen.result.retryMessages).toHaveLength(2);
    expect({ flushes: seen.flushes, retried: seen.retried }).toEqual({ flushes: 1, retried: 2 });
  });

  it("counts and flushes the dead-letter queue's retries when the tenant registry is unreadable", async () => {
    const seen = await consumeCounting("plinth-events-dlq", [unreadableRegistry]);
    expect(seen.result.retryMessages).toHaveLength(2);
    expect({ flushes: seen.flushes, retried: seen.retried }).toEqual({ flushes: 1, retried: 2 });
  });

  it("counts and flushes the dead-letter queue's retries when D1 cannot store them", async () => {
    const seen = await consumeCounting("plinth-events-dlq", [], d1Down());
    expect(seen.result.retryMessages).toHaveLength(2);
    expect({ flushes: seen.flushes, retried: seen.retried }).toEqual({ flushes: 1, retried: 2 });
  });
});
