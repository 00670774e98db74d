// Bulkhead on manual time: the cap on calls in flight, the queue behind it, and every way out of the queue.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Bulkhead,
  BulkheadFullError,
  type BulkheadPolicy,
  BulkheadTimeoutError,
} from "../../src/kernel/resilience/bulkhead";
import { isRetryable } from "../../src/kernel/resilience/retry";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { track } from "./track";

const START = "2026-01-01T00:00:00Z";
const policy: BulkheadPolicy = { maxConcurrent: 2, maxQueued: 2, queueTimeoutMs: 1_000 };

describe("Bulkhead", () => {
  it("admits maxConcurrent at once and queues the rest, first come first served", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead({ ...policy, maxQueued: 3 }, time.sleeper);
    const order: string[] = [];
    const releases = new Map<string, () => void>();
    const take = (name: string) =>
      bulkhead.acquire().then((release) => {
        order.push(name);
        releases.set(name, release);
      });
    const all = Promise.all(["a", "b", "c", "d", "e"].map(take));
    await time.advance(0);
    expect(order).toEqual(["a", "b"]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 3]);
    releases.get("b")?.();
    await time.advance(0);
    expect(order).toEqual(["a", "b", "c"]);
    releases.get("a")?.();
    releases.get("c")?.();
    await all;
    expect(order).toEqual(["a", "b", "c", "d", "e"]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 0]);
    // The queued waiters' timers went with them.
    expect(time.pending()).toBe(0);
  });

  it("refuses at once with a retryable BulkheadFullError when every slot and queue place is taken", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead(policy, time.sleeper);
    const hold = () => bulkhead.run(() => time.sleeper.sleep(10_000));
    const held = [hold(), hold(), hold(), hold()].map(track);
    let called = false;
    const error = await bulkhead
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect(isRetryable(error)).toBe(true);
    expect(called).toBe(false);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 2]);
    await time.advance(20_000);
    // The two queued waited past queueTimeoutMs; the two running finished.
    expect(held.map((h) => h.error instanceof BulkheadTimeoutError)).toEqual([false, false, true, true]);
  });

  it("with no queue, refuses whenever all slots are taken", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead({ ...policy, maxQueued: 0 }, time.sleeper);
    await bulkhead.acquire();
    await bulkhead.acquire();
    await expect(bulkhead.acquire()).rejects.toBeInstanceOf(BulkheadFullError);
  });

  it("gives up on a waiter after queueTimeoutMs with a retryable BulkheadTimeoutError, and not before", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead({ ...policy, maxConcurrent: 1 }, time.sleeper);
    await bulkhead.acquire();
    const waiter = track(bulkhead.acquire());
    await time.advance(999);
    expect(waiter.settled).toBe(false);
    await time.advance(1);
    expect(waiter.error).toBeInstanceOf(BulkheadTimeoutError);
    expect(isRetryable(waiter.error)).toBe(true);
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 0]);
  });

  it("lets an aborted waiter leave the queue, and later slots skip it", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead({ ...policy, maxConcurrent: 1 }, time.sleeper);
    const release = await bulkhead.acquire();
    const abort = new AbortController();
    const leaver = track(bulkhead.acquire(abort.signal));
    const stayer = track(bulkhead.acquire());
    abort.abort("client gone");
    await time.advance(0);
    expect(leaver.error).toBe("client gone");
    expect(bulkhead.queued).toBe(1);
    release();
    await time.advance(0);
    expect(typeof stayer.value).toBe("function");
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 0]);
    await expect(bulkhead.acquire(AbortSignal.abort("already"))).rejects.toBe("already");
    expect(bulkhead.queued).toBe(0);
  });

  it("frees a slot once however often release is called, and whether fn resolves or throws", async () => {
    const time = manualTime(START);
    const bulkhead = new Bulkhead({ ...policy, maxConcurrent: 1 }, time.sleeper);
    const release = await bulkhead.acquire();
    const second = track(bulkhead.acquire());
    const third = track(bulkhead.acquire());
    release();
    release();
    await time.advance(0);
    expect(typeof second.value).toBe("function");
    // The second call of the same release gave nothing away.
    expect(third.settled).toBe(false);
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 1]);
    second.value?.();
    await time.advance(0);
    expect(typeof third.value).toBe("function");
    third.value?.();
    await expect(bulkhead.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(bulkhead.active).toBe(0);
    await expect(bulkhead.run(async () => "free")).resolves.toBe("free");
    expect(bulkhead.active).toBe(0);
  });

  it("never runs more than maxConcurrent at once, and runs every call it admits (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 800 })), {
          minLength: 1,
          maxLength: 30,
        }),
        async (maxConcurrent, maxQueued, calls) => {
          const time = manualTime(START);
          const bulkhead = new Bulkhead({ maxConcurrent, maxQueued, queueTimeoutMs: 500 }, time.sleeper);
          let running = 0;
          let peak = 0;
          let ran = 0;
          const outcomes: Promise<string>[] = [];
          for (const [gap, duration] of calls) {
            await time.advance(gap);
            outcomes.push(
              bulkhead
                .run(async () => {
                  running++;
                  peak = Math.max(peak, running);
                  expect(bulkhead.active).toBeLessThanOrEqual(maxConcurrent);
                  await time.sleeper.sleep(duration);
                  running--;
                  ran++;
                  return "ran";
                })
                .catch((e: unknown) => (e instanceof Error ? e.name : "other")),
            );
            expect(bulkhead.queued).toBeLessThanOrEqual(maxQueued);
          }
          await time.advance(1_000_000);
          const results = await Promise.all(outcomes);
          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(results.filter((r) => r === "ran")).toHaveLength(ran);
          expect(new Set(results.filter((r) => r !== "ran"))).toSatisfy((names: Set<string>) =>
            [...names].every((n) => n === "BulkheadFullError" || n === "BulkheadTimeoutError"),
          );
          expect([bulkhead.active, bulkhead.queued, time.pending()]).toEqual([0, 0, 0]);
        },
      ),
    );
  });
});
