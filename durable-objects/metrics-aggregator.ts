import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { Clock } from "../src/kernel/clock";
import { storedJson } from "../src/kernel/db/stored-json";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { metricDef } from "../src/kernel/metrics/catalog";
import { MetricsRpc } from "../src/kernel/metrics/contract";
import { addPoint, type SeriesPoint, seriesKey } from "../src/kernel/metrics/recorder";

type Rpc = typeof MetricsRpc;

/** The object's tables, one version per entry, each recorded as shipped by npm run generate: append a version, never edit one. */
export const METRICS_AGGREGATOR_SCHEMA: string[][] = [
  [
    `create table series (
       key text primary key,
       name text not null,
       labels text not null,
       value real not null,
       sum real,
       buckets text
     )`,
    // Flush ids already added, so a retried flush is not counted twice; kept an hour of the
    // object's own clock (`at` is when the flush arrived here, not the time it carries).
    `create table flushes (id text primary key, at integer not null)`,
  ],
];

const Strings = z.array(z.string());
const Counts = z.array(z.number());

/** Most series one aggregator keeps; points of further series are counted as dropped. */
const MAX_SERIES = 10_000;
const FLUSH_MEMORY_MS = 3_600_000;

/**
 * One shard of the deployment's metrics: the cumulative value of every
 * series the isolates flushed to it, in memory and in SQLite (an evicted
 * object forgets nothing). Points of metrics the catalog does not declare, or
 * of the wrong shape, are refused, so one bad isolate cannot corrupt a series.
 *
 * Flush ids are forgotten an hour after they arrived by the platform's clock the class
 * is built over (src/index.ts), never by the time a flush carries: an isolate whose clock
 * is ahead (a test's, set in the future) would otherwise wipe the memory of every flush
 * before its own, and a real-time flush retried after that would be counted twice.
 */
export function metricsAggregatorObject(platform: { clock: Clock }) {
  const { clock } = platform;
  return class MetricsAggregator extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
    /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
    ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
      rpcArgs(PingRpc, "ping", input);
      return PONG;
    }

    private known: Map<string, SeriesPoint> | null = null;

    add(input: RpcArgs<Rpc, "add">): RpcReply<Rpc, "add"> {
      // The flush's own `now` is validated and not used: the memory of ids runs on this object's clock.
      const { id, series } = rpcArgs(MetricsRpc, "add", input);
      const now = clock.now().getTime();
      const known = this.load();
      const sql = this.ctx.storage.sql;
      if (sql.exec("select 1 from flushes where id = ?", id).toArray().length > 0)
        return { applied: false, dropped: 0 };
      let dropped = 0;
      const changed = new Map<string, SeriesPoint>();
      for (const point of series) {
        const def = metricDef(point.name);
        const shaped =
          def !== undefined &&
          point.labels.length === def.labels.length &&
          (def.kind === "histogram"
            ? point.buckets?.length === (def.buckets?.length ?? 0) + 1 && point.sum !== undefined
            : point.buckets === undefined);
        if (!shaped) {
          dropped++;
          continue;
        }
        const key = seriesKey(point.name, point.labels);
        let into = known.get(key);
        if (!into) {
          if (known.size >= MAX_SERIES) {
            dropped++;
            continue;
          }
          into = {
            name: point.name,
            labels: point.labels,
            value: 0,
            ...(def.kind === "histogram" ? { sum: 0, buckets: new Array(point.buckets?.length ?? 0).fill(0) } : {}),
          };
          known.set(key, into);
        }
        addPoint(into, point);
        changed.set(key, into);
      }
      if (dropped > 0) {
        const key = seriesKey("plinth_metrics_series_dropped_total", ["aggregator"]);
        const into = known.get(key) ?? {
          name: "plinth_metrics_series_dropped_total",
          labels: ["aggregator"],
          value: 0,
        };
        into.value += dropped;
        known.set(key, into);
        changed.set(key, into);
      }
      try {
        this.write(id, now, changed);
      } catch (error) {
        // Rolled back, its id unrecorded: the points already added in memory would count twice when
        // the isolate sends the flush again. Storage holds the series; the next call reads them.
        this.known = null;
        throw error;
      }
      return { applied: true, dropped };
    }

    /** Stores the changed series and the flush's id, in one transaction. */
    private write(id: string, now: number, changed: ReadonlyMap<string, SeriesPoint>): void {
      const sql = this.ctx.storage.sql;
      this.ctx.storage.transactionSync(() => {
        for (const [key, p] of changed) {
          sql.exec(
            `insert into series (key, name, labels, value, sum, buckets) values (?, ?, ?, ?, ?, ?)
           on conflict(key) do update set value = excluded.value, sum = excluded.sum, buckets = excluded.buckets`,
            key,
            p.name,
            JSON.stringify(p.labels),
            p.value,
            p.sum ?? null,
            p.buckets ? JSON.stringify(p.buckets) : null,
          );
        }
        sql.exec("insert into flushes (id, at) values (?, ?)", id, now);
        sql.exec("delete from flushes where at < ?", now - FLUSH_MEMORY_MS);
      });
    }

    series(input: RpcArgs<Rpc, "series">): RpcReply<Rpc, "series"> {
      rpcArgs(MetricsRpc, "series", input);
      return [...this.load().values()];
    }

    /** The series, read from storage once per object lifetime. */
    private load(): Map<string, SeriesPoint> {
      if (this.known) return this.known;
      migrateSqlite(this.ctx.storage, METRICS_AGGREGATOR_SCHEMA);
      const rows = this.ctx.storage.sql
        .exec<{ key: string; name: string; labels: string; value: number; sum: number | null; buckets: string | null }>(
          "select key, name, labels, value, sum, buckets from series",
        )
        .toArray();
      this.known = new Map(
        rows.map((r) => [
          r.key,
          {
            name: r.name,
            labels: Strings.parse(storedJson(r.labels, `metrics series ${r.name} labels`)),
            value: r.value,
            ...(r.sum !== null ? { sum: r.sum } : {}),
            ...(r.buckets !== null
              ? { buckets: Counts.parse(storedJson(r.buckets, `metrics series ${r.name} buckets`)) }
              : {}),
          },
        ]),
      );
      return this.known;
    }
  };
}
