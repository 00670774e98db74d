// A MetricsAggregator remembers the flush ids it added by its own clock: a flush stamped by a
// clock set ahead (a test's) cannot make it forget a real-time flush, which a retry would then
// count twice.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { METRICS } from "../../src/kernel/metrics/catalog";
import { metricsClock } from "../object-clocks";

const point = (value: number) => ({ name: METRICS.rateLimitDecisions.name, labels: ["login", "allowed"], value });

describe("a MetricsAggregator's memory of flushes", () => {
  it("still refuses a retried real-time flush after a flush stamped two hours ahead", async () => {
    const shard = env.METRICS.getByName(`memory-${crypto.randomUUID()}`);
    const now = Date.now();
    expect(await shard.add({ id: "isolate-a-1", now, series: [point(3)] })).toEqual({ applied: true, dropped: 0 });
    // Another isolate's flush, stamped by a clock a test set ahead.
    expect(await shard.add({ id: "isolate-b-1", now: now + 7_200_000, series: [point(5)] })).toEqual({
      applied: true,
      dropped: 0,
    });
    // The first flush retried (its answer was lost): counted once.
    expect(await shard.add({ id: "isolate-a-1", now, series: [point(3)] })).toEqual({ applied: false, dropped: 0 });
    const series = await shard.series({});
    expect(series.find((s) => s.name === METRICS.rateLimitDecisions.name)?.value).toBe(8);
  });

  it("is reached through a binding typed by its class (tsc checks this one)", () => {
    const shard = env.METRICS.getByName("typed");
    expectTypeOf(shard.add).toBeCallableWith({ id: "typed", now: 0, series: [point(1)] });
    // @ts-expect-error a flush's `now` is epoch milliseconds: a METRICS typed as DurableObjectNamespace<any> took this
    expectTypeOf(shard.add).toBeCallableWith({ id: "typed", now: "soon", series: [] });
  });
});

describe("a MetricsAggregator's memory of flushes, on its own clock", () => {
  afterEach(() => metricsClock.release());

  it("keeps an id an hour after it arrived, however the flushes are stamped, and then forgets it", async () => {
    metricsClock.set("2030-01-01T08:00:00Z");
    const shard = env.METRICS.getByName(`memory-${crypto.randomUUID()}`);
    const ids = () =>
      runInDurableObject(shard, (_object, state) =>
        state.storage.sql
          .exec<{ id: string }>("select id from flushes order by id")
          .toArray()
          .map((r) => r.id),
      );
    // Stamped long before the object's time: kept all the same, by when it arrived.
    await shard.add({ id: "old-stamp", now: 0, series: [point(1)] });
    metricsClock.advance(3_600_000);
    await shard.add({ id: "hour-later", now: 0, series: [point(1)] });
    expect(await ids()).toEqual(["hour-later", "old-stamp"]);
    metricsClock.advance(1);
    await shard.add({ id: "past-the-hour", now: 0, series: [point(1)] });
    expect(await ids()).toEqual(["hour-later", "past-the-hour"]);
  });
});
