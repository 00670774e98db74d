import { appliedLetters } from "../../kernel/events/dead-letter-applied";
import { deadLetterStore } from "../../kernel/events/dead-letters";
import { processedLedger } from "../../kernel/events/ledger";
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
    return { purged };
  },
};

/** Tenants named in the report, those with the most waiting letters. */
const NAMED_TENANTS = 20;
/** Waiting letters read (and checked against the ledger) per round trip. */
const WAITING_PAGE = 500;
/**
 * Waiting letters checked against the ledger one by one, oldest first; those after them are
 * counted by type and tenant in one query and taken as waiting (`unchecked`). Each page costs
 * two D1 queries, and a run's queries are limited (1,000 on the paid plan): reading every
 * letter would make the report fail in the very flood it exists to report.
 */
export const REPORT_CHECKED_MAX = 5_000;

const tally = (into: Map<string, number>, key: string, n = 1) => into.set(key, (into.get(key) ?? 0) + n);
const byCount = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1]);

/**
 * Hourly: how many dead letters wait for an operator, by event type and (the 20
 * with the most) by tenant, in one log line (a warning while any wait), with how many were stored
 * since the last report (`new`). It does not count them in `plinth_dead_letters_total`: their
 * consumers do as they store them, so a letter dismissed before the report ran is counted too,
 * and a report run again after a failure counts nothing twice. A letter whose
 * event every subscription already applied (a catch-up replay did) does not wait: it is
 * counted apart, as `already_applied` (kernel/events/dead-letter-applied.ts). The same counts
 * are the run's result (its JobRunner keeps them with the run).
 */
export const deadLetterReport: JobDef = {
  name: "dead-letter-report",
  cron: "45 * * * *",
  retry: { attempts: 2, base_ms: 10_000, max_ms: 60_000 },
  async run({ env, log, scheduledTime, lastSuccess, modules }) {
    const store = deadLetterStore(env.DB);
    const received = await store.receivedByType(
      lastSuccess === null ? null : new Date(lastSuccess),
      new Date(scheduledTime),
    );
    const applied = appliedLetters(modules);
    const byType = new Map<string, number>();
    const byTenant = new Map<string, number>();
    let alreadyApplied = 0;
    let checked = 0;
    let after: string | undefined;
    let more = true;
    while (more && checked < REPORT_CHECKED_MAX) {
      const letters = await store.waiting(after, WAITING_PAGE);
      checked += letters.length;
      const done = await applied(env, letters);
      for (const letter of letters) {
        if (done.has(letter.id)) alreadyApplied++;
        else {
          tally(byType, letter.event_type ?? "unknown");
          tally(byTenant, letter.tenant_id ?? "unknown");
        }
      }
      after = letters.at(-1)?.id;
      more = letters.length === WAITING_PAGE;
    }
    let unchecked = 0;
    // Stopped at the cap with letters left: the rest are counted, not read.
    if (more && after !== undefined) {
      const rest = await store.waitingCountsAfter(after);
      for (const { type, count } of rest.byType) tally(byType, type ?? "unknown", count);
      for (const { tenant, count } of rest.byTenant) tally(byTenant, tenant ?? "unknown", count);
      unchecked = rest.byType.reduce((sum, c) => sum + c.count, 0);
    }
    const total = [...byType.values()].reduce((sum, n) => sum + n, 0);
    const fields = {
      waiting: total,
      new: received.reduce((sum, c) => sum + c.count, 0),
      already_applied: alreadyApplied,
      // Past the first REPORT_CHECKED_MAX, counted as waiting without asking the ledger.
      unchecked,
      by_type: Object.fromEntries(byCount(byType)),
      // Letters are listed and replayed per tenant: whose they are says whom to turn to.
      by_tenant: Object.fromEntries(byCount(byTenant).slice(0, NAMED_TENANTS)),
    };
    if (total > 0) log.warn("dead letters wait for an operator", fields);
    else log.info("no dead letters waiting", fields);
    // The run's result too: `plinth jobs run events dead-letter-report` prints it.
    return fields;
  },
};
