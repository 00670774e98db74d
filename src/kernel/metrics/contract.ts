import { z } from "zod";
import { defineRpc, rpcClient } from "../durable/rpc";
import { MAX_ISOLATE_SERIES } from "./recorder";

const PointSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .max(200),
  labels: z.array(z.string().max(128)).max(16),
  value: z.number().finite().min(0),
  sum: z.number().finite().optional(),
  buckets: z.array(z.number().int().min(0)).max(64).optional(),
});

/**
 * The MetricsAggregator Durable Object's contract. Isolates `add` what they
 * recorded since their last flush, under a flush id: an id seen before is
 * not added again, so a flush retried after an ambiguous failure counts once.
 * `series` answers the cumulative series for `GET /metrics`.
 */
export const MetricsRpc = defineRpc({
  add: {
    args: z.object({
      id: z.string().min(1).max(64),
      now: z.number().int().min(0),
      series: z.array(PointSchema).max(MAX_ISOLATE_SERIES + 1),
    }),
    reply: z.object({ applied: z.boolean(), dropped: z.number().int().min(0) }),
  },
  series: {
    args: z.object({}),
    reply: z.array(PointSchema),
  },
});

/**
 * How many aggregator objects share the flushes: an isolate flushes to one
 * (chosen once, at random), `GET /metrics` reads and sums them all. One object
 * takes about a thousand calls a second; at most one flush per isolate per
 * second, so this bounds the isolates a deployment can have before flushes
 * queue — raise it (it only ever grows: series of a lowered count would be
 * lost from the sum) for a very large deployment.
 */
export const METRICS_SHARDS = 4;

/** The typed client of one aggregator shard: the only way to reach it. */
export function metricsShard(env: Env, shard: number) {
  return rpcClient(MetricsRpc, env.METRICS.getByName(`metrics-${shard}`), "MetricsAggregator");
}
