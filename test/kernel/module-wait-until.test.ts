// The `waitUntil` a module's code is handed (a queue subscriber's runtime, a job's run): work
// that fails after the invocation is logged with the invocation's fields, and the runtime is
// never handed the rejection (which workerd only prints, with nothing to tell it by).
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import type { Envelope } from "../../src/kernel/events/envelope";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { createLogger, type LogFields } from "../../src/kernel/log";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { runJobNamed } from "../helpers";

afterEach(() => vi.restoreAllMocks());

/** The warn lines logged while the test ran, parsed. */
function warnLines(): () => LogFields[] {
  const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
  return () => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as LogFields);
}

describe("work a module hands to waitUntil", () => {
  it("from a queue subscriber: a failure is logged, the runtime never sees it, and the message is still acked", async () => {
    const warned = warnLines();
    let late: Promise<void> | undefined;
    const module: ModuleDef = {
      name: "late",
      version: "1.0.0",
      events: {
        subscribes: [
          {
            name: "after",
            types: ["late.thing.done"],
            async handle(_event, runtime) {
              late = Promise.reject(new Error("late work failed: the mail provider said no"));
              runtime.waitUntil(late);
            },
          },
        ],
      },
    };
    const handler = createQueueHandler({
      modules: [module],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-02T00:00:00Z"),
    });
    const event: Envelope = {
      id: `late-${crypto.randomUUID()}`,
      type: "late.thing.done",
      tenant_id: "t-late",
      stream: "t-late/thing/1",
      version: 1,
      occurred_at: "2026-06-01T00:00:00.000Z",
      actor: { kind: "system", id: null },
      request_id: null,
      data: {},
    };
    const batch = createMessageBatch("plinth-events", [
      { id: "late-1", timestamp: new Date(), attempts: 1, body: event },
    ]);
    const ctx = createExecutionContext();
    await handler(batch, env, ctx);
    // The subscriber's own work succeeded: the event is acked, not retried for its late work.
    expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([]);
    expect(late).toBeDefined();
    // Everything handed to the runtime settles; the failure is a line plinth wrote.
    await expect(waitOnExecutionContext(ctx)).resolves.toBeUndefined();
    const lines = warned().filter((l) => l.msg === "background work failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ error_message: expect.stringContaining("late work failed") });
  });

  it("from a job: a failure is logged with the job's name and attempt, and the run stays ok", async () => {
    const warned = warnLines();
    const handed: Promise<unknown>[] = [];
    const module: ModuleDef = {
      name: "latejob",
      version: "1.0.0",
      jobs: [
        {
          name: "sweep",
          cron: "0 3 * * *",
          async run({ waitUntil }) {
            waitUntil(Promise.reject(new Error("late sweep failed")));
          },
        },
      ],
    };
    const log = createLogger("warn");
    const run = await runJobNamed("latejob/sweep", { modules: [module], log, waitUntil: (p) => handed.push(p) });
    expect(run.ran && run.run.outcome).toBe("ok");
    expect(handed).toHaveLength(1);
    // What reached the invocation's waitUntil settles, however the work ended.
    await expect(Promise.all(handed)).resolves.toHaveLength(1);
    const lines = warned().filter((l) => l.msg === "background work failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      job: "latejob/sweep",
      attempt: 1,
      error_message: expect.stringContaining("late sweep failed"),
    });
  });
});
