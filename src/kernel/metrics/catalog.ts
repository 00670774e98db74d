/**
 * Every metric plinth records, declared once: its Prometheus name, help text,
 * kind, label names and (histograms) bucket bounds in seconds. Recording
 * sites pass label values in this order; the renderer and the aggregator read
 * the kind and buckets from here, so a series can never change shape between
 * isolates of one deployment.
 *
 * Cardinality is bounded by construction: routes are Hono's route patterns
 * (never raw paths), methods and status classes are closed sets, tenants are
 * labelled only when listed in METRICS_TENANTS (others are "other"), and the
 * remaining labels name code (modules, aggregates, commands, policies), or key versions
 * (a handful per deployment, read from a ciphertext's prefix, never its content).
 */
export interface MetricDef {
  name: string;
  help: string;
  kind: "counter" | "histogram";
  labels: readonly string[];
  /** Upper bounds of a histogram's buckets, ascending; `+Inf` is implied. */
  buckets?: readonly number[];
}

const counter = (name: string, help: string, labels: readonly string[]): MetricDef => ({
  name,
  help,
  kind: "counter",
  labels,
});
const histogram = (name: string, help: string, labels: readonly string[], buckets: readonly number[]): MetricDef => ({
  name,
  help,
  kind: "histogram",
  labels,
  buckets,
});

/** Request and call durations, seconds. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Job run durations, seconds: from milliseconds to the 15 minutes a scheduled invocation may last. */
export const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900] as const;
/** Lags (an event's age when something happened to it), seconds. */
export const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] as const;

export const METRICS = {
  httpRequests: counter(
    "plinth_http_requests_total",
    "HTTP requests answered, by route pattern, method, status class and (allow-listed) tenant.",
    ["route", "method", "status", "tenant"],
  ),
  httpDuration: histogram(
    "plinth_http_request_duration_seconds",
    "Time from a request's arrival to its response, by route pattern and method.",
    ["route", "method"],
    DURATION_BUCKETS,
  ),
  doRpcDuration: histogram(
    "plinth_do_rpc_duration_seconds",
    "Durable Object RPC calls as their callers saw them, by object class, method and outcome.",
    ["object", "method", "outcome"],
    DURATION_BUCKETS,
  ),
  commands: counter(
    "plinth_commands_total",
    "Commands through the command bus, by aggregate type, command and outcome (ok or the error code).",
    ["aggregate", "command", "outcome"],
  ),
  outboxAppended: counter(
    "plinth_outbox_appended_total",
    "Outbox rows the writers committed with their state, by writer class; minus plinth_outbox_sent_total, the rows waiting.",
    ["object"],
  ),
  outboxSent: counter(
    "plinth_outbox_sent_total",
    "Outbox rows the writers' relays handed to the queue, by writer class.",
    ["object"],
  ),
  outboxDrainFailures: counter(
    "plinth_outbox_drain_failures_total",
    "Outbox drains that failed and were scheduled for a retry, by writer class.",
    ["object"],
  ),
  outboxLag: histogram(
    "plinth_outbox_drain_lag_seconds",
    "Age of each outbox row when the queue accepted it (commit to queue), by writer class.",
    ["object"],
    LAG_BUCKETS,
  ),
  queueMessages: counter(
    "plinth_queue_messages_total",
    "Queue messages the consumer settled, by queue and outcome (acked, retried, dead_lettered).",
    ["queue", "outcome"],
  ),
  queueBatchesConfigInvalid: counter(
    "plinth_queue_batches_config_invalid_total",
    "Queue batches put back because the Worker's config is invalid (a variable missing or wrong), by queue: none of their messages is consumed until it is fixed (each counts as retried in plinth_queue_messages_total).",
    ["queue"],
  ),
  projectionLag: histogram(
    "plinth_projection_lag_seconds",
    "Time from an event's occurrence to its application by a subscription, by subscription and path (inline, queue, replay).",
    ["consumer", "path"],
    LAG_BUCKETS,
  ),
  authFailures: counter(
    "plinth_auth_failures_total",
    "Requests refused for their credential or its permissions, by reason.",
    ["reason"],
  ),
  previousSecretUses: counter(
    "plinth_previous_secret_uses_total",
    "Requests let in by a secret's previous value (PLATFORM_ROOT_KEY_PREVIOUS, METRICS_TOKEN_PREVIOUS), by variable: it can go once this stops growing.",
    ["variable"],
  ),
  rateLimitDecisions: counter(
    "plinth_rate_limit_decisions_total",
    "Rate-limit decisions, by policy and decision (allowed, limited, unavailable: the limiter failed closed).",
    ["policy", "decision"],
  ),
  actorFailures: counter(
    "plinth_actor_failures_total",
    "Actor message and timer handlers that threw (their storage writes rolled back), by actor class and handler.",
    ["actor", "handler"],
  ),
  actorTimersFired: counter(
    "plinth_actor_timers_fired_total",
    "Actor timers whose handler ran and returned (the timer is done), by actor class: a timer retried after a throw counts once, when it succeeds.",
    ["actor"],
  ),
  actorRestarts: counter(
    "plinth_actor_restarts_total",
    "Actors that failed too often in their window and backed off before restarting from storage, by actor class.",
    ["actor"],
  ),
  webhookDeliveries: counter(
    "plinth_webhook_attempts_total",
    "Webhook delivery attempts by outcome (delivered, rejected: a non-2xx answer, unreachable: no answer in time or no connection, refused: the target is not allowed) and response status class.",
    ["outcome", "status"],
  ),
  webhookGivenUp: counter(
    "plinth_webhook_messages_given_up_total",
    "Webhook messages given up (after their last attempt, or on a 410 Gone), by the last attempt's outcome: each is lost to its receiver until redelivered.",
    ["outcome"],
  ),
  webhookLatency: histogram(
    "plinth_webhook_attempt_duration_seconds",
    "Time a webhook receiver took to answer an attempt, by outcome.",
    ["outcome"],
    DURATION_BUCKETS,
  ),
  webhookLag: histogram(
    "plinth_webhook_delivery_lag_seconds",
    "Time from an event's occurrence to its successful delivery to an endpoint.",
    [],
    LAG_BUCKETS,
  ),
  jobRuns: counter(
    "plinth_job_runs_total",
    "Job runs by job (<module>/<job>; not `job`, which Prometheus gives the scrape target), trigger (cron, manual) and outcome (ok, failed, lost: its lease ran out unreported; skipped: the previous run still held the lease).",
    ["job_name", "trigger", "outcome"],
  ),
  jobDuration: histogram(
    "plinth_job_duration_seconds",
    "Time a job run took, all its attempts and the waits between them, by job and outcome.",
    ["job_name", "outcome"],
    JOB_BUCKETS,
  ),
  jobRetries: counter(
    "plinth_job_retries_total",
    "Job attempts that failed and were tried again under the job's retry policy, by job.",
    ["job_name"],
  ),
  deadLetters: counter(
    "plinth_dead_letters_total",
    "Dead letters stored, each once when it is stored (whether later replayed, dismissed or left waiting), by source (events, mail) and type (an event type a module publishes, else other, or unknown when the message named none; a mail's kind).",
    ["source", "type"],
  ),
  mailEnqueueFailed: counter(
    "plinth_mail_enqueue_failed_total",
    "Mail a request could not put on the MAIL queue after its bounded retries (or the queue could not take at all: too large), by kind and outcome: kept as a mail dead letter for the operator's replay, dropped (its recipient was deleted meanwhile), or lost (nobody receives it).",
    ["kind", "outcome"],
  ),
  unsealFailures: counter(
    "plinth_unseal_failures_total",
    "Sealed values (webhook, SSO and TOTP secrets, mail) that did not open, by reason (unknown_key_version: ENCRYPTION_KEYS lacks the version they were sealed under; not_authentic; key_material_destroyed), declared field kind (or undeclared) and key version.",
    ["reason", "kind", "version"],
  ),
  seriesDropped: counter(
    "plinth_metrics_series_dropped_total",
    "Observations dropped because their series would pass the cardinality cap, by where (isolate, aggregator).",
    ["where"],
  ),
} as const satisfies Record<string, MetricDef>;

export type MetricName = (typeof METRICS)[keyof typeof METRICS]["name"];

const BY_NAME: ReadonlyMap<string, MetricDef> = new Map(Object.values(METRICS).map((d) => [d.name, d]));

/** The definition of a metric by its Prometheus name, or undefined. */
export function metricDef(name: string): MetricDef | undefined {
  return BY_NAME.get(name);
}

/** Every declared metric, in declaration order. */
export const ALL_METRICS: readonly MetricDef[] = Object.values(METRICS);
