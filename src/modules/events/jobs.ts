import { deadLetterStore, type TypeCount } from "../../kernel/events/dead-letters";
import { processedLedger } from "../../kernel/events/ledger";
import { METRICS } from "../../kernel/metrics/catalog";
import { isolateRecorder } from "../../kernel/metrics/recorder";
import type { JobDef } from "../../kernel/modules/types";
import { readModels } from "../../kernel/read-models";

/** Hourly: forgets processed event ids older than any redelivery (the consumers' idempotency ledger). */
export const purgeProcessed: JobDef = {
  name: "purge-processed",
  cron: "15 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run({ env, log, clock }) {
    const purged = await processedLedger(readModels(env)).purge(clock.now());
    if (purged > 0) log.info("processed event ids purged", { purged });
  },
};

/** Event types labelled on their own in the metric; the rest add up under "other". */
const LABELLED_TYPES = 20;

/**
 * Hourly: how many dead letters wait for an operator, by event type and (the 20
 * with the most) by tenant, in one log line (a warning while any wait), and the ones stored since the last
 * report added to `plinth_dead_letters_total{type}`, so an alert can watch it.
 */
export const deadLetterReport: JobDef = {
  name: "dead-letter-report",
  cron: "45 * * * *",
  retry: { attempts: 2, base_ms: 10_000, max_ms: 60_000 },
  async run({ env, log, scheduledTime, lastSuccess }) {
    const { waiting, received, waitingByTenant } = await deadLetterStore(env.DB).countsByType(
      lastSuccess === null ? null : new Date(lastSuccess),
      new Date(scheduledTime),
    );
    const sorted = (counts: TypeCount[]) => [...counts].sort((a, b) => b.count - a.count);
    sorted(received).forEach(({ type, count }, i) => {
      isolateRecorder.inc(METRICS.deadLetters, [i < LABELLED_TYPES ? (type ?? "unknown") : "other"], count);
    });
    const total = waiting.reduce((sum, c) => sum + c.count, 0);
    const fields = {
      waiting: total,
      new: received.reduce((sum, c) => sum + c.count, 0),
      by_type: Object.fromEntries(sorted(waiting).map(({ type, count }) => [type ?? "unknown", count])),
      // Letters are listed and replayed per tenant: whose they are says whom to turn to.
      by_tenant: Object.fromEntries(waitingByTenant.map(({ tenant, count }) => [tenant ?? "unknown", count])),
    };
    if (total > 0) log.warn("dead letters wait for an operator", fields);
    else log.info("no dead letters waiting", fields);
  },
};
