/**
 * The plinth Worker as the bench serves it: its bindings (kept in step with wrangler.toml),
 * the secrets generated for the run and the rate-limit policies. Shared by run.mjs and
 * profile.mjs.
 */
import { randomBytes } from "node:crypto";
import { newSigningKeySet } from "../../scripts/jwt-keys.mjs";

export const COMPAT = { compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] };

/** Fresh for every run; it only ever travels between this process and 127.0.0.1. */
export const ROOT_KEY = randomBytes(32).toString("base64url");

/**
 * The policies of src/kernel/ratelimit/policies.ts (DEFAULT_POLICIES), which plain Node cannot
 * import; a name it does not know fails the config, and test/node/plinth-config.test.ts fails
 * when this list and DEFAULT_POLICIES differ.
 */
export const POLICY_NAMES = [
  "principal",
  "tenant",
  "anonymous",
  "tenant_anonymous",
  "auth_failures",
  "login",
  "login_ip",
  "mail",
  "mail_ip",
  "register",
  "two_factor",
  "invitations",
  "personal_export",
  "member_export",
];
/**
 * RATE_LIMITS for a bench Worker: every policy out of reach (the load comes from one principal
 * and one address at thousands of requests/s), with `policies` on top.
 * @param {Record<string, object>} policies
 */
export function rateLimits(policies) {
  const unlimited = { limit: 10_000_000, burst: 10_000_000, max_limit: 10_000_000 };
  return JSON.stringify(Object.fromEntries(POLICY_NAMES.map((n) => [n, { ...unlimited, ...policies[n] }])));
}
/** The overload measurement's policy: 100 requests per 10 s, bursts of 10. */
export const OVERLOAD_POLICY = { limit: 100, period_s: 10, burst: 10, max_limit: 100 };

/** wrangler.toml's [[queues.consumers]] for plinth-events, in Miniflare's names (max_batch_timeout: seconds). */
export const EVENTS_CONSUMER = {
  maxBatchSize: 50,
  maxBatchTimeout: 1,
  maxRetries: 5,
  deadLetterQueue: "plinth-events-dlq",
};

/** wrangler.toml's [[queues.consumers]] for plinth-mail. */
export const MAIL_CONSUMER = {
  maxBatchSize: 10,
  maxBatchTimeout: 1,
  maxRetries: 30,
  deadLetterQueue: "plinth-mail-dlq",
};

/**
 * plinth's bindings, hard-coded from the top-level (development) section of
 * /work/main/wrangler.toml — keep in step with it. Differences on purpose: LOG_LEVEL is
 * "warn" so per-request log lines do not dominate the measurement; crons and observability
 * are left out (nothing here triggers them). The queue consumers are wired to the Worker's
 * own queue() handler, so events are projected into D1. Storage is in-memory. The required
 * secrets are generated per run, as `npm start` does for .dev.vars.
 */
export const PLINTH_CONFIG = {
  ...COMPAT,
  vars: {
    ENVIRONMENT: "development",
    LOG_LEVEL: "warn",
    MAX_BODY_BYTES: "1048576",
    GIT_COMMIT: "unknown",
    PLATFORM_ROOT_KEY: ROOT_KEY,
    JWT_SIGNING_KEYS: newSigningKeySet(),
    ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
    RATE_LIMITS: rateLimits({}),
  },
  d1Databases: { DB: "00000000-0000-4000-8000-000000000000" },
  queueProducers: { EVENTS: "plinth-events", MAIL: "plinth-mail" },
  queueConsumers: {
    "plinth-events": EVENTS_CONSUMER,
    "plinth-events-dlq": { maxBatchSize: 50, maxRetries: 10 },
    "plinth-mail": MAIL_CONSUMER,
    "plinth-mail-dlq": { maxBatchSize: 50, maxRetries: 10 },
  },
  r2Buckets: { FILES: "plinth-files" },
  durableObjects: {
    TENANT_DIRECTORY: { className: "TenantDirectory", useSQLite: true },
    AGGREGATE: { className: "Aggregate", useSQLite: true },
    AUDIT_LOG: { className: "AuditLog", useSQLite: true },
    RATE_LIMITER: { className: "RateLimiter", useSQLite: true },
    IDEMPOTENCY: { className: "IdempotencyStore", useSQLite: true },
    METRICS: { className: "MetricsAggregator", useSQLite: true },
    WEBHOOK_REGISTRY: { className: "WebhookRegistry", useSQLite: true },
    WEBHOOK_ENDPOINT: { className: "WebhookEndpoint", useSQLite: true },
    FILE_STORE: { className: "FileStore", useSQLite: true },
    JOB_RUNNER: { className: "JobRunner", useSQLite: true },
  },
};

/** The variants of plinth the rate-limit measurements run on: the same bundle, other RATE_LIMITS. */
export const plinthWith = (/** @type {Record<string, object>} */ policies) => ({
  ...PLINTH_CONFIG,
  vars: { ...PLINTH_CONFIG.vars, RATE_LIMITS: rateLimits(policies) },
});

/**
 * plinth with tracing on, exporting every span (or `ratio` of the traces, by trace id) to
 * `endpoint` (the bench's local OTLP sink): the same bundle, three more vars.
 * @param {string} endpoint
 * @param {number} ratio OTEL_TRACES_SAMPLER_ARG
 */
export const plinthTraced = (endpoint, ratio) => ({
  ...PLINTH_CONFIG,
  vars: {
    ...PLINTH_CONFIG.vars,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_HEADERS: "x-bench=1",
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  },
});
