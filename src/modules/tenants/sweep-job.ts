import { isoIn } from "../../kernel/clock";
import { eraseTenantRows, tenantsWithRows } from "../../kernel/erasure/tables";
import { PROCESSED_RETENTION_DAYS } from "../../kernel/events/ledger";
import { errorFields } from "../../kernel/log";
import type { JobDef } from "../../kernel/modules/types";
import { erasedFrom, erasureStore } from "./erasure-store";

/**
 * How long after a tenant's erasure its tables are swept again: 15 days, the consumers' ledger
 * ({@link PROCESSED_RETENTION_DAYS}), past the longest a late write can come. Queues keep a
 * message at most 14 days, so no delivery of the tenant's events (a retry, a redelivery, one
 * whose batch passed the consumer's "deleted tenant" check before the delete) arrives later;
 * a replay call and the writer's inline pass write only what they read before the aggregates
 * step emptied the tenant's writers, within the minutes a call or a pass lasts; and the
 * queue consumer's own sweep (kernel/events/erased-sweep.ts), which fails only with the
 * database, is retried by every run of this one until the window closes.
 */
export const ERASED_SWEEP_DAYS = PROCESSED_RETENTION_DAYS;
/** Tombstones read per query; a run walks all of the window's, a page at a time. */
const PAGE = 500;

/**
 * Hourly: the catch-all behind every late write of an erased tenant. The erasure's tables step
 * deletes a tenant's rows once; anything written after it (a queue batch that passed the
 * consumer's check while an isolate still took the tenant for live, in a deployment whose
 * objects do not refuse it; a replay or an inline pass in flight; a rows sweep of the consumer
 * that failed) would stay for good. Each run looks, for the tenants erased in the last
 * {@link ERASED_SWEEP_DAYS} days (their tombstones; a tenant still being erased is the erasure
 * job's, and a live one is never named), whether any declared table holds a row of theirs: one
 * batch of reads per database, so a run that finds nothing costs two round trips. Rows found are
 * deleted as the tables step deletes them (`eraseTenantRows`, safe to repeat), with a line per
 * tenant naming the rows by table. A tenant whose delete fails is logged and the run fails (its
 * retries, then the next hour's run, try again).
 */
export const sweepErased: JobDef = {
  name: "sweep-erased",
  cron: "50 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run(runtime) {
    const { env, clock, log, modules } = runtime;
    const store = erasureStore(env.DB);
    const since = isoIn(clock, -ERASED_SWEEP_DAYS * 86_400_000);
    let checked = 0;
    let swept = 0;
    let failed = 0;
    const rows: Record<string, number> = {};
    // By (erased_at, id) from the window's start: a page reads the window's tombstones only.
    for (let after = erasedFrom(since); ; ) {
      const page = await store.erasedAfter(after, PAGE);
      checked += page.length;
      const ids = page.map((tombstone) => tombstone.id);
      for (const tenantId of await tenantsWithRows(env, modules, ids)) {
        try {
          const counts = Object.entries(await eraseTenantRows(env, modules, tenantId)).filter(([, n]) => n > 0);
          // Nothing when a sweep of the queue consumer deleted them between the probe and here.
          if (counts.length === 0) continue;
          for (const [table, n] of counts) rows[table] = (rows[table] ?? 0) + n;
          swept++;
          // A warning: every such row is a write that outlived the erasure, worth knowing the source of.
          log.warn("rows of an erased tenant swept after its erasure", {
            tenant_id: tenantId,
            rows: Object.fromEntries(counts),
          });
        } catch (error) {
          failed++;
          log.error("rows of an erased tenant not swept; the next run tries again", {
            tenant_id: tenantId,
            ...errorFields(error),
          });
        }
      }
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) break;
      after = last;
    }
    if (failed > 0) throw new Error(`${failed} erased tenant(s) with rows left not swept`);
    return { erased_tenants: checked, swept, rows };
  },
};
