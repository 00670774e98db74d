/**
 * The workerd test suite's entry (vitest.config.ts `main`): the Worker as
 * deployed, plus test-only Durable Object classes.
 */
import { auditLogObject } from "../durable-objects/audit-log";
import { idempotencyStoreObject } from "../durable-objects/idempotency-store";
import { metricsAggregatorObject } from "../durable-objects/metrics-aggregator";
import { rateLimiterObject } from "../durable-objects/rate-limiter";
import { tenantDirectoryObject } from "../durable-objects/tenant-directory";
import { webhookEndpointObject } from "../durable-objects/webhook-endpoint";
import { createPlatform } from "../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../src/generated/migrations";
import { createScheduledHandler } from "../src/kernel/jobs/scheduled";
import { createQueueRouter } from "../src/kernel/queues";
import { modules } from "../src/modules";
import { clockProbeClock, clockProbeObject } from "./actors/clock-probe";
import {
  auditLogClock,
  directoryClock,
  idempotencyClock,
  idempotencySleeper,
  metricsClock,
  rateLimiterClock,
} from "./object-clocks";
import { testResolver } from "./test-resolver";
import { watchedContext } from "./wait-until-guard";

export * from "../src/index";

// The Worker as src/index.ts composes it, over the suite's own DNS (test/test-resolver.ts): the
// hosts tests name (webhook receivers, identity providers) never go to a public resolver, which
// test/setup.ts checks. Its fetch, queue and scheduled handlers, and the object that delivers
// webhooks, are those of this platform.
const platform = createPlatform({
  modules,
  migrations: MIGRATIONS,
  migration_tables: MIGRATION_TABLES,
  resolver: testResolver,
});
// Each handler's context has its `waitUntil` watched (test/wait-until-guard.ts): work a request,
// a batch or a cron hands it that rejects fails the test file that saw it.
const queue = createQueueRouter(platform);
const scheduled = createScheduledHandler(platform);
export default {
  fetch: (request, env, ctx) => platform.app.fetch(request, env, watchedContext(ctx)),
  queue: (batch, env, ctx) => queue(batch, env, watchedContext(ctx)),
  scheduled: (controller, env, ctx) => scheduled(controller, env, watchedContext(ctx)),
} satisfies ExportedHandler<Env>;
export const WebhookEndpoint = webhookEndpointObject(platform);
export { HandlerlessProbe } from "./actors/handlerless-probe";
export { ProbeActor } from "./actors/probe-actor";
export { TimerlessProbe } from "./actors/timerless-probe";
export { NoPingObject } from "./kernel/no-ping-object";

// A module's actor on a clock its tests move (docs/actors.md, "Testing an actor"): built as
// src/index.ts builds it, over a settable clock instead of the platform's. A module's own
// object exported here under its class name replaces the one `export *` brings, for the tests only.
export const ClockProbe = clockProbeObject({
  clock: clockProbeClock,
  needs: platform.needs,
  modules: platform.modules,
});

// The platform's own objects over clocks (and the store's sleeper) their tests move
// (test/object-clocks.ts), built as src/index.ts builds them over the platform's clock.
export const RateLimiter = rateLimiterObject({ clock: rateLimiterClock });
export const IdempotencyStore = idempotencyStoreObject({ clock: idempotencyClock, sleeper: idempotencySleeper });
export const AuditLog = auditLogObject({ clock: auditLogClock });
export const TenantDirectory = tenantDirectoryObject({ clock: directoryClock });
export const MetricsAggregator = metricsAggregatorObject({ clock: metricsClock });
