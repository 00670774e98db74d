import { env } from "cloudflare:workers";
import { aggregateObject } from "../durable-objects/aggregate";
import { auditLogObject } from "../durable-objects/audit-log";
import { fileStoreObject } from "../durable-objects/file-store";
import { idempotencyStoreObject } from "../durable-objects/idempotency-store";
import { jobRunnerObject } from "../durable-objects/job-runner";
import { metricsAggregatorObject } from "../durable-objects/metrics-aggregator";
import { rateLimiterObject } from "../durable-objects/rate-limiter";
import { tenantDirectoryObject } from "../durable-objects/tenant-directory";
import { webhookEndpointObject } from "../durable-objects/webhook-endpoint";
import { webhookRegistryObject } from "../durable-objects/webhook-registry";
import { createPlatform } from "./app";
import { MIGRATION_TABLES, MIGRATIONS } from "./generated/migrations";
import { AggregateRpc } from "./kernel/events/aggregate-rpc";
import { PingRpc } from "./kernel/health/contract";
import { IdempotencyRpc } from "./kernel/idempotency/contract";
import { JobRunnerRpc } from "./kernel/jobs/contract";
import { createScheduledHandler } from "./kernel/jobs/scheduled";
import { MetricsRpc } from "./kernel/metrics/contract";
import { createQueueRouter } from "./kernel/queues";
import { RateLimiterRpc } from "./kernel/ratelimit/contract";
import { tracingFor } from "./kernel/telemetry/instrument";
import { modules } from "./modules";
import { AuditLogRpc } from "./modules/audit/contract";
import { FileStoreRpc } from "./modules/files/contract";
import { DirectoryRpc } from "./modules/identity/directory/contract";
import { EndpointRpc, RegistryRpc } from "./modules/webhooks/contract";

// Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT is set: decided once per isolate, before the app is built.
const traced = tracingFor(env);

// Composed once per isolate; an invalid module registry fails here, at
// start-up (and so at `wrangler deploy`), not on a request.
const platform = createPlatform({ modules, migrations: MIGRATIONS, migration_tables: MIGRATION_TABLES });

export default traced.handler({
  fetch: platform.app.fetch,
  queue: createQueueRouter(platform),
  scheduled: createScheduledHandler(platform),
} satisfies ExportedHandler<Env>);

// Durable Object classes: every class wrangler.toml binds is exported here, with its instance
// type under the same name: worker-env.d.ts types each binding by that name, and where it is only
// a value the binding's stubs are any (test/unit/env-bindings.test.ts holds every binding to its class).
/** The Aggregate object over the deciders the registered modules declare. */
export const Aggregate = traced.object(aggregateObject(platform), "Aggregate", AggregateRpc, PingRpc);
export type Aggregate = InstanceType<typeof Aggregate>;
export const AuditLog = traced.object(auditLogObject(platform), "AuditLog", AuditLogRpc, PingRpc);
export type AuditLog = InstanceType<typeof AuditLog>;
export const IdempotencyStore = traced.object(
  idempotencyStoreObject(platform),
  "IdempotencyStore",
  IdempotencyRpc,
  PingRpc,
);
export type IdempotencyStore = InstanceType<typeof IdempotencyStore>;
/** The scheduler's actor: one per job (`<module>/<job>`), holding its lease and its runs. */
export const JobRunner = traced.object(jobRunnerObject(platform), "JobRunner", JobRunnerRpc, PingRpc);
// Its replies carry a run's result as JSON text (JobSummaryJson in src/kernel/jobs/contract.ts): the
// summary itself made this stub type too deep for tsc (TS2589).
export type JobRunner = InstanceType<typeof JobRunner>;
export const MetricsAggregator = traced.object(
  metricsAggregatorObject(platform),
  "MetricsAggregator",
  MetricsRpc,
  PingRpc,
);
export type MetricsAggregator = InstanceType<typeof MetricsAggregator>;
export const RateLimiter = traced.object(rateLimiterObject(platform), "RateLimiter", RateLimiterRpc, PingRpc);
export type RateLimiter = InstanceType<typeof RateLimiter>;
export const TenantDirectory = traced.object(tenantDirectoryObject(platform), "TenantDirectory", DirectoryRpc, PingRpc);
export type TenantDirectory = InstanceType<typeof TenantDirectory>;
/** The webhooks module's actors: one registry per tenant, one delivery actor per endpoint. */
export const WebhookRegistry = traced.object(webhookRegistryObject(platform), "WebhookRegistry", RegistryRpc, PingRpc);
export type WebhookRegistry = InstanceType<typeof WebhookRegistry>;
export const WebhookEndpoint = traced.object(webhookEndpointObject(platform), "WebhookEndpoint", EndpointRpc, PingRpc);
export type WebhookEndpoint = InstanceType<typeof WebhookEndpoint>;
/** The files module's actor: one FileStore per tenant (metadata, usage, quota). */
export const FileStore = traced.object(fileStoreObject(platform), "FileStore", FileStoreRpc, PingRpc);
export type FileStore = InstanceType<typeof FileStore>;
