// A MetricsAggregator keeps its series in memory and in SQLite. A flush whose transaction rolled
// back (a full disk) left its points added to the memory but its id unrecorded, so the isolate's
// retry under the same id was added again: GET /metrics counted the flush twice until the object
// was evicted, when the counter fell back to what storage held.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../src/kernel/metrics/catalog";
import { rejection } from "../actors/rejection";
import { failNextTransaction } from "../storage-faults";

const point = (value: number) => ({ name: METRICS.rateLimitDecisions.name, labels: ["login", "allowed"], value });

describe("a MetricsAggregator flush whose transaction rolls back", () => {
  it("is counted once when the isolate sends it again under its id", async () => {
    const shard = env.METRICS.getByName(`rollback-${crypto.randomUUID()}`);
    await shard.add({ id: "isolate-a-1", now: 0, series: [point(2)] });
    // The next transaction fails as a full disk would, after its writes: they roll back.
    await failNextTransaction(shard);
    expect((await rejection(shard.add({ id: "isolate-a-2", now: 0, series: [point(3)] }))).message).toMatch(
      /SQLITE_FULL/,
    );
    // The flusher's retry, under the same id: added once.
    expect(await shard.add({ id: "isolate-a-2", now: 0, series: [point(3)] })).toEqual({ applied: true, dropped: 0 });
    const series = await shard.series({});
    expect(series.find((s) => s.name === METRICS.rateLimitDecisions.name)?.value).toBe(5);
  });
});
