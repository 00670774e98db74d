// The writers' inline pass when a pass never ends: later commits must not wait on it forever.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { consumerStats } from "../../src/kernel/events/consume";
import type { Envelope } from "../../src/kernel/events/envelope";
import { INLINE_STALL_MS, InlineProjector } from "../../src/kernel/events/inline";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { manualTime } from "../../src/kernel/resilience/sleep";

const event = (id: string, version: number): Envelope => ({
  id,
  type: "stall.thing.happened",
  tenant_id: "t-stall",
  stream: "t-stall/thing/one",
  version,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: {},
});

type HandleBatch = (batch: readonly Envelope[]) => Promise<{ writes: [] }>;

/** A module `name` with one inline subscription to the test's event type, applying batches with `handleBatch`. */
function inlineModule(name: string, handleBatch: HandleBatch): ModuleDef {
  return {
    name,
    version: "1.0.0",
    events: { subscribes: [{ name: "things", types: ["stall.thing.happened"], inline: true, handleBatch }] },
  };
}

/** A module whose inline subscription hangs on its first batch (an object reset mid-pass) and records the rest. */
function stallingModule(applied: string[]): ModuleDef {
  let calls = 0;
  return inlineModule("stall", (batch) => {
    calls++;
    if (calls === 1) return new Promise(() => {});
    applied.push(...batch.map((e) => e.id));
    return Promise.resolve({ writes: [] });
  });
}

/** A module whose inline subscription applies each batch only when the test opens its gate (`gates[i]()`). */
function gatedModule(name: string, gates: (() => void)[], applied: string[]): ModuleDef {
  return inlineModule(
    name,
    (batch) =>
      new Promise((resolve) => {
        gates.push(() => {
          applied.push(...batch.map((e) => e.id));
          resolve({ writes: [] });
        });
      }),
  );
}

/** A projector over {@link stallingModule}, on a manual clock and sleeper. */
function stallingProjector(applied: string[]) {
  const time = manualTime("2026-06-01T00:00:00Z");
  const inline = new InlineProjector(
    { modules: [stallingModule(applied)], needs: KERNEL_NEEDS, clock: time.clock },
    env,
    { sleeper: time.sleeper },
  );
  return { time, inline };
}

describe("the inline pass, stalled", () => {
  it("is joined while it may still move, and given up after INLINE_STALL_MS: the next commit starts a pass of its own", async () => {
    const applied: string[] = [];
    const { time, inline } = stallingProjector(applied);
    const suffix = crypto.randomUUID();
    const [e1, e2, e3] = [event(`e1-${suffix}`, 1), event(`e2-${suffix}`, 2), event(`e3-${suffix}`, 3)];
    const stalledBefore = consumerStats.inline.stalled;

    const first = inline.push([e1]);
    // Let the pass reach the subscription, where it hangs.
    await new Promise((r) => setTimeout(r, 20));
    // Within the bound, a commit joins the pass under way (and waits behind it).
    time.clock.advance(INLINE_STALL_MS - 1);
    expect(inline.push([e2])).toBe(first);
    expect(consumerStats.inline.stalled).toBe(stalledBefore);

    // Past it, the pass is given up: a new one applies what waited and what just came.
    time.clock.advance(1);
    const second = inline.push([e3]);
    expect(second).not.toBe(first);
    await second;
    expect(applied).toEqual([e2.id, e3.id]);
    expect(consumerStats.inline.stalled).toBe(stalledBefore + 1);

    // The stalled pass's event is left to the queue: not recorded as applied.
    const marks = await env.DB.prepare(
      "select event_id from processed_events where consumer = 'stall:things' and event_id in (?, ?, ?)",
    )
      .bind(e1.id, e2.id, e3.id)
      .all<{ event_id: string }>();
    expect(marks.results.map((r) => r.event_id).sort()).toEqual([e2.id, e3.id].sort());

    // The new pass is the current one: a later commit after a quiet spell starts and finishes its own.
    await inline.push([event(`e4-${suffix}`, 4)]);
    expect(applied).toHaveLength(3);
  });

  it("is given up when the clock is set back INLINE_STALL_MS: how long the pass has been held cannot be told", async () => {
    // Measured as "now minus when it last moved", a clock set back made a stalled pass look alive
    // until the clock caught up again, and every commit meanwhile joined it and waited.
    const applied: string[] = [];
    const { time, inline } = stallingProjector(applied);
    const suffix = crypto.randomUUID();
    const first = inline.push([event(`b1-${suffix}`, 1)]);
    await new Promise((r) => setTimeout(r, 20));
    time.clock.advance(-(INLINE_STALL_MS - 1));
    expect(inline.push([event(`b2-${suffix}`, 2)])).toBe(first);
    time.clock.advance(-1);
    const second = inline.push([event(`b3-${suffix}`, 3)]);
    expect(second).not.toBe(first);
    await second;
    expect(applied).toEqual([`b2-${suffix}`, `b3-${suffix}`]);
  });

  it("leaves the pass that replaced it alone when the stalled one ends after all", async () => {
    const gates: (() => void)[] = [];
    const applied: string[] = [];
    const gated = gatedModule("stall", gates, applied);
    const time = manualTime("2026-06-01T00:00:00Z");
    const inline = new InlineProjector({ modules: [gated], needs: KERNEL_NEEDS, clock: time.clock }, env, {
      sleeper: time.sleeper,
    });
    const suffix = crypto.randomUUID();
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const first = inline.push([event(`a-${suffix}`, 1)]);
    await settle();
    time.clock.advance(INLINE_STALL_MS + 1);
    const second = inline.push([event(`b-${suffix}`, 2)]);
    await settle();
    expect(gates).toHaveLength(2);
    // The stalled pass ends after all, while its replacement is still under way.
    gates[0]?.();
    await first;
    // A commit now joins the replacement: the old pass's end did not clear it.
    expect(inline.push([event(`c-${suffix}`, 3)])).toBe(second);
    gates[1]?.();
    await settle();
    // The replacement takes the waiting commit in its next round.
    gates[2]?.();
    await second;
    expect(applied).toEqual([`a-${suffix}`, `b-${suffix}`, `c-${suffix}`]);
  });
});

describe("the inline pass, shared by writers (the Aggregate objects of an isolate)", () => {
  it("hands a writer only a pass it started: one that joins another writer's does not wait on it", async () => {
    // A pass runs in the context of the object whose commit started it. Another object that
    // waited on it (its waitUntil) waited on a promise of a context not its own: for ever, once
    // that object was reset mid-pass, as here.
    const applied: string[] = [];
    const { inline } = stallingProjector(applied);
    const suffix = crypto.randomUUID();
    const first = inline.push([event(`s1-${suffix}`, 1)], undefined, "writer-a");
    await new Promise((r) => setTimeout(r, 20));
    // The same writer's next commit joins its own pass, as before.
    expect(inline.push([event(`s2-${suffix}`, 2)], undefined, "writer-a")).toBe(first);
    // Another writer's commit rides the pass under way, but is not handed it.
    const joined = inline.push([event(`s3-${suffix}`, 3)], undefined, "writer-b");
    expect(joined).not.toBe(first);
    const answer = await Promise.race([
      joined.then(() => "settled"),
      new Promise((r) => setTimeout(() => r("waited"), 200)),
    ]);
    expect(answer).toBe("settled");
  });
});

describe("the inline pass, failing outside its subscribers", () => {
  it("settles, logs why, and leaves the next commit a pass of its own", async () => {
    // A throw outside a subscriber's own failures (here the pacer's wait) rejected the pass: the
    // writer's waitUntil got a rejection that only workerd printed, and nothing of plinth's said so.
    const gates: (() => void)[] = [];
    const applied: string[] = [];
    const gated = gatedModule("gated", gates, applied);
    const clock = manualTime("2026-06-01T00:00:00Z").clock;
    let failures = 1;
    const failing = {
      sleep: () => (failures-- > 0 ? Promise.reject(new Error("sleeper gone")) : Promise.resolve()),
    };
    const inline = new InlineProjector({ modules: [gated], needs: KERNEL_NEEDS, clock }, env, {
      paceMs: 1000,
      sleeper: failing,
    });
    const suffix = crypto.randomUUID();
    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line) => void logged.push(String(line)));
    try {
      const failedBefore = consumerStats.inline.failed;
      const first = inline.push([event(`f1-${suffix}`, 1)]);
      await new Promise((r) => setTimeout(r, 20));
      // A commit while the first batch is applied: the pass's next turn waits on the pacer, which fails.
      void inline.push([event(`f2-${suffix}`, 2)]);
      gates[0]?.();
      await expect(first).resolves.toBeUndefined();
      expect(consumerStats.inline.failed).toBe(failedBefore + 1);
      expect(logged.some((l) => l.includes("inline pass failed") && l.includes("sleeper gone"))).toBe(true);
      expect(applied).toEqual([`f1-${suffix}`]);
      // The failed pass is over: the next commit starts one of its own.
      const next = inline.push([event(`f3-${suffix}`, 3)]);
      expect(next).not.toBe(first);
      await new Promise((r) => setTimeout(r, 20));
      gates[1]?.();
      await next;
      expect(applied).toEqual([`f1-${suffix}`, `f3-${suffix}`]);
    } finally {
      spy.mockRestore();
    }
  });
});
