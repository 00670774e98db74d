import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rejectedObjectWaitUntils } from "../wait-until-guard";

/** What the guard recorded once `settled` has, polling briefly (the rejection is seen a few turns later). */
async function recordedAfter(settled: Promise<unknown>): Promise<string[]> {
  await settled.catch(() => undefined);
  const seen: string[] = [];
  for (let i = 0; i < 20 && seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    seen.push(...(await rejectedObjectWaitUntils()));
  }
  return seen;
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
