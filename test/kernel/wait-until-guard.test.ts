import {
  createExecutionContext,
  createMessageBatch,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rejectedObjectWaitUntils, rejectedWorkerWaitUntils } from "../wait-until-guard";
import worker from "../worker";

/** What `take` recorded once `settled` has, polling briefly (the rejection is seen a few turns later). */
async function recordedAfter(
  settled: Promise<unknown>,
  take: () => string[] | Promise<string[]> = rejectedObjectWaitUntils,
): Promise<string[]> {
  await settled.catch(() => undefined);
  const seen: string[] = [];
  for (let i = 0; i < 20 && seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    seen.push(...(await take()));
  }
  return seen;
}

/**
 * A context as workerd hands the Worker's handlers one, keeping what its `waitUntil` is handed:
 * its own `waitUntil` over the pool's (already watched) one, as the pool copies workerd's onto each.
 */
function runtimeContext(): { ctx: ExecutionContext; handed: Promise<unknown>[] } {
  const handed: Promise<unknown>[] = [];
  const ctx = Object.assign(createExecutionContext(), {
    // As workerd does, the runtime awaits what it is handed: its rejection is no unhandled one.
    waitUntil: (p: Promise<unknown>) => {
      handed.push(p);
      p.catch(() => undefined);
    },
  });
  return { ctx, handed };
}

// test/setup.ts installs the guard and fails a file whose objects' waitUntil work rejected;
// each case here takes what it made, so this file passes.
describe("the suite's guard on Durable Object waitUntil work", () => {
  it("records a rejection with its reason and the caller of waitUntil, once", async () => {
    let work: Promise<unknown> = Promise.resolve();
    await runInDurableObject(env.RATE_LIMITER.getByName("test:wait-until-guard-case"), (_object, state) => {
      work = Promise.reject(new TypeError("flush failed"));
      state.waitUntil(work);
    });
    const seen = await recordedAfter(work);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^TypeError: flush failed \(waitUntil at .*wait-until-guard\.test\.ts:\d+/);
    expect(await rejectedObjectWaitUntils()).toEqual([]);
  });

  it("records nothing for work that settles", async () => {
    let work: Promise<unknown> = Promise.resolve();
    await runInDurableObject(env.RATE_LIMITER.getByName("test:wait-until-guard-case"), (_object, state) => {
      work = new Promise((r) => setTimeout(r, 1));
      state.waitUntil(work);
    });
    await work;
    await new Promise((r) => setTimeout(r, 20));
    expect(await rejectedObjectWaitUntils()).toEqual([]);
  });
});

// The Worker's own ExecutionContext: a request's, a queue batch's, a cron's.
describe("the suite's guard on the Worker's waitUntil work", () => {
  it("records a rejection handed to a createExecutionContext() context, which still rejects for the test", async () => {
    const ctx = createExecutionContext();
    const work = Promise.reject(new RangeError("trace export failed"));
    ctx.waitUntil(work);
    const seen = await recordedAfter(work, rejectedWorkerWaitUntils);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^RangeError: trace export failed \(waitUntil at .*wait-until-guard\.test\.ts:\d+/);
    await expect(waitOnExecutionContext(ctx)).rejects.toThrow("trace export failed");
    expect(rejectedWorkerWaitUntils()).toEqual([]);
  });

  it("watches the context the test Worker's fetch is handed, once, and hands the runtime the same outcome", async () => {
    const { ctx, handed } = runtimeContext();
    const res = await worker.fetch(new Request("https://plinth.test/healthz"), env, ctx);
    expect(res.status).toBe(200);
    // A context handed twice (the pool's own SELF wrapper reuses none, but nothing forbids it) is watched once.
    await worker.fetch(new Request("https://plinth.test/healthz"), env, ctx);
    const work = Promise.reject(new TypeError("late audit write failed"));
    ctx.waitUntil(work);
    const seen = await recordedAfter(work, rejectedWorkerWaitUntils);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^TypeError: late audit write failed \(waitUntil at .*wait-until-guard\.test\.ts:\d+/);
    const last = handed.at(-1);
    await expect(last).rejects.toThrow("late audit write failed");
  });

  it("watches the context the test Worker's queue handler is handed", async () => {
    const { ctx } = runtimeContext();
    await worker.queue(createMessageBatch("plinth-events", []), env, ctx);
    const work = Promise.reject(new Error("late projection failed"));
    ctx.waitUntil(work);
    const seen = await recordedAfter(work, rejectedWorkerWaitUntils);
    expect(seen).toEqual([expect.stringMatching(/^Error: late projection failed \(waitUntil at /)]);
  });

  it("records nothing for Worker work that settles", async () => {
    const { ctx, handed } = runtimeContext();
    await worker.fetch(new Request("https://plinth.test/healthz"), env, ctx);
    const before = handed.length;
    ctx.waitUntil(Promise.resolve("done"));
    expect(handed).toHaveLength(before + 1);
    await Promise.all(handed);
    await new Promise((r) => setTimeout(r, 20));
    expect(rejectedWorkerWaitUntils()).toEqual([]);
  });
});
