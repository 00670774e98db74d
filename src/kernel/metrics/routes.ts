import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { tokenRefused } from "../auth/challenge";
import { DEPRECATED_CREDENTIAL_HEADER, matchRotated, notePreviousSecret } from "../auth/rotated-secret";
import { timingSafeEqual } from "../crypto";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { createRouter, problem } from "../openapi/router";
import { METRICS_SHARDS, metricsShard } from "./contract";
import { isolateMetrics } from "./flush";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus";
import { addPoint, type SeriesPoint, seriesKey } from "./recorder";

/**
 * Who may scrape: `Bearer <METRICS_TOKEN>` (or, during a rotation, `METRICS_TOKEN_PREVIOUS`)
 * when the token is set. A middleware rather than the handler's first lines so that a scrape
 * let in by the previous token is told so on every answer: an error's problem response (a
 * flush or a shard read that fails) is built apart from `c`, without the header prepared on
 * it, so it is set again once the route has answered.
 */
function metricsGate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { metricsToken: token, metricsTokenPrevious, environment } = c.get("config");
    // Open for a local scrape; a deployment's metrics (tenant ids, routes, error rates) are not
    // for anyone who asks, and each scrape reads every shard.
    if (token === undefined && (environment === "staging" || environment === "production")) {
      throw new AppError("unauthenticated", {
        detail: `GET /metrics is closed in ${environment} until METRICS_TOKEN is set; then send 'Bearer <METRICS_TOKEN>'`,
      });
    }
    if (token === undefined) return next();
    const header = c.req.header("authorization") ?? "";
    // The scheme is case-insensitive (RFC 9110 §11.1), as the API's own credentials are read.
    const presented = /^Bearer +(\S+)$/i.exec(header.trim())?.[1] ?? "";
    const match = matchRotated(presented, token, metricsTokenPrevious, timingSafeEqual);
    if (match === "none") {
      const detail = "GET /metrics needs 'Bearer <METRICS_TOKEN>'";
      // A token sent and refused says so (RFC 6750 §3.1); none sent, the plain challenge.
      throw header === "" ? new AppError("unauthenticated", { detail }) : tokenRefused(detail);
    }
    if (match === "previous") notePreviousSecret(c, "METRICS_TOKEN_PREVIOUS");
    await next();
    if (match === "previous") c.header(DEPRECATED_CREDENTIAL_HEADER, "METRICS_TOKEN_PREVIOUS");
  };
}

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  summary: "Prometheus metrics of the whole deployment (every isolate's flushes, summed)",
  description:
    "Text exposition format 0.0.4. Needs `Authorization: Bearer <METRICS_TOKEN>` when `METRICS_TOKEN` is set; without it, open in development and closed (401) in staging and production.",
  tags: ["operations"],
  security: [],
  middleware: [metricsGate()] as const,
  responses: {
    200: { description: "the metrics", content: { "text/plain": { schema: z.string() } } },
    401: problem("METRICS_TOKEN is set and the request does not carry it, or it is unset in staging or production"),
  },
});

/** Every shard's cumulative series, summed per series. */
async function collect(env: Env): Promise<SeriesPoint[]> {
  const shards = await Promise.all(Array.from({ length: METRICS_SHARDS }, (_, i) => metricsShard(env, i).series({})));
  const sum = new Map<string, SeriesPoint>();
  for (const point of shards.flat()) {
    const key = seriesKey(point.name, point.labels);
    const into = sum.get(key);
    if (into) addPoint(into, point);
    else sum.set(key, { ...point, buckets: point.buckets ? [...point.buckets] : undefined });
  }
  return [...sum.values()];
}

/**
 * `GET /metrics`: flushes this isolate's own recordings first (so a scrape
 * right after a request sees it), then renders what every isolate flushed.
 */
export function metricsRoutes() {
  return createRouter().openapi(metrics, async (c) => {
    await isolateMetrics().flush(c.env, c.get("clock"));
    c.header("Cache-Control", "no-store");
    // The exposition format's version is part of its content type (c.text's own default would drop it).
    return c.text(renderPrometheus(await collect(c.env)), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });
}
