// The Durable Object bindings of Env are typed by their classes. src/worker-env.d.ts
// (`wrangler types`) names each as DurableObjectNamespace<import("./index").<Class>>; where
// src/index.ts exported only the class's const, that name was a value, the type silently
// became any (skipLibCheck covers .d.ts files), and every stub of the binding took and
// answered anything. tsc checks this file: each line below is an error only on a typed stub.
import { env } from "cloudflare:workers";
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { JobSummaryJson } from "../../src/kernel/jobs/contract";

describe("Env's Durable Object bindings", () => {
  it("are typed by their classes: a stub has no method its class lacks", () => {
    // @ts-expect-error typed by Aggregate
    expectTypeOf(env.AGGREGATE.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by AuditLog
    expectTypeOf(env.AUDIT_LOG.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by FileStore
    expectTypeOf(env.FILE_STORE.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by IdempotencyStore
    expectTypeOf(env.IDEMPOTENCY.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by JobRunner (its replies carry a run's result as JSON text: see JobSummaryJson)
    expectTypeOf(env.JOB_RUNNER.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by MetricsAggregator
    expectTypeOf(env.METRICS.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by RateLimiter
    expectTypeOf(env.RATE_LIMITER.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by TenantDirectory
    expectTypeOf(env.TENANT_DIRECTORY.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by WebhookEndpoint
    expectTypeOf(env.WEBHOOK_ENDPOINT.getByName("t")).toHaveProperty("noSuchMethod");
    // @ts-expect-error typed by WebhookRegistry
    expectTypeOf(env.WEBHOOK_REGISTRY.getByName("t")).toHaveProperty("noSuchMethod");
  });

  it("type JobRunner's replies as sent, not never: a run's result crosses as its JSON text", () => {
    // workers-types make a reply they cannot serialize `never` (which has every property, so the
    // check above would pass); a summary of recursive JSON type made this stub too deep for tsc.
    const status = env.JOB_RUNNER.getByName("t").status;
    type Run = Awaited<ReturnType<typeof status>>["runs"][number];
    expectTypeOf<Run["result"]>().toEqualTypeOf<z.input<typeof JobSummaryJson> | null>();
    expectTypeOf<Run["outcome"]>().toEqualTypeOf<"ok" | "failed" | "lost">();
  });
});
