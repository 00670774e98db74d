import { aggregateObject } from "../durable-objects/aggregate";
import { createPlatform } from "./app";
import { MIGRATIONS } from "./generated/migrations";
import { createQueueHandler } from "./kernel/events/queue";
import { createScheduledHandler } from "./kernel/jobs/scheduled";
import { modules } from "./modules";

// Composed once per isolate; an invalid module registry fails here, at
// start-up (and so at `wrangler deploy`), not on a request.
const platform = createPlatform({ modules, migrations: MIGRATIONS });

export default {
  fetch: platform.app.fetch,
  queue: createQueueHandler(platform),
  scheduled: createScheduledHandler(platform),
} satisfies ExportedHandler<Env>;

// Durable Object classes: every class wrangler.toml binds is exported here.
/** The Aggregate object over the deciders the registered modules declare. */
export const Aggregate = aggregateObject(platform);
export type Aggregate = InstanceType<typeof Aggregate>;
export { AuditLog } from "../durable-objects/audit-log";
export { IdempotencyStore } from "../durable-objects/idempotency-store";
export { MetricsAggregator } from "../durable-objects/metrics-aggregator";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { TenantDirectory } from "../durable-objects/tenant-directory";
