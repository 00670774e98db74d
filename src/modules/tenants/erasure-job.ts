import { isoIn, isoNow } from "../../kernel/clock";
import { eraseTenant } from "../../kernel/erasure/run";
import { erasureSteps, remainingSteps } from "../../kernel/erasure/steps";
import { errorFields, errorText } from "../../kernel/log";
import type { JobDef } from "../../kernel/modules/types";
import { erasureStore } from "./erasure-store";
import { TENANT_CACHE_TTL_MS } from "./lookup";

/**
 * How long after a delete the erasure waits: twice the caches' 30 s (the tenant
 * lookup's, the key seed's), so no isolate still serves the tenant, or writes
 * its data, behind an erasure that has passed.
 */
export const ERASURE_GRACE_MS = 2 * TENANT_CACHE_TTL_MS;
/** Tenants taken per run (the least recently tried first); the next minute's run takes the rest. */
export const ERASURES_PER_RUN = 5;
/** How much of a failed try's error the registry keeps for the platform's view (the log has it whole). */
export const ERASURE_ERROR_CHARS = 300;

/**
 * A failed try's error as the platform's view of the tenant shows it: `Name: message` and its
 * causes (a driver's error arrives wrapped, the cause saying what went wrong) as the log line
 * has them, a failed query's bound values left out (they may hold the tenant's data), cut at
 * {@link ERASURE_ERROR_CHARS}; the stack stays in the log.
 */
export function erasureErrorText(error: unknown): string {
  const parts = [errorText(error)];
  for (let e: unknown = error instanceof Error ? error.cause : undefined; e != null && parts.length < 3; ) {
    parts.push(errorText(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  // One line: a failed query's text ends in a line of its own (`params: [n left out]`).
  const text = parts.join(" <- ").replace(/\s*\n\s*/g, " ");
  return text.length > ERASURE_ERROR_CHARS ? `${text.slice(0, ERASURE_ERROR_CHARS - 1)}…` : text;
}

/**
 * Every minute: erases the tenants deleted at least {@link ERASURE_GRACE_MS} ago,
 * through every module's declared erasure (kernel/erasure), recording each step
 * done in the registry row, so a run that dies half way (or an attempt that
 * throws) resumes where it stopped. A run takes the tenants least recently tried
 * (`erasureStore(...).due`), marking each as tried before its try: an erasure that
 * keeps failing is retried in its turn and holds no place a tenant deleted after it
 * needs. When every step is done the row gives way to a tombstone (id and time:
 * consumers drop a late event of the tenant) and a log line, the platform's record,
 * says so with the rows deleted. A try that fails is counted in the row with its step and
 * error, which the platform's view of the tenant shows (an erasure that misses its deadline).
 */
export const eraseDeleted: JobDef = {
  name: "erase-deleted",
  cron: "* * * * *",
  retry: { attempts: 3, base_ms: 1_000, max_ms: 10_000 },
  async run(runtime) {
    const { env, clock, log } = runtime;
    const store = erasureStore(env.DB);
    const before = isoIn(clock, -ERASURE_GRACE_MS);
    let failed = 0;
    for (const tenant of await store.due(before, ERASURES_PER_RUN)) {
      const done = [...tenant.done];
      const record = async (step: string) => {
        done.push(step);
        await store.recordSteps(tenant.id, done);
      };
      try {
        await store.markTried(tenant.id, isoNow(clock));
        const report = await eraseTenant(runtime.modules, tenant.id, runtime, { done: tenant.done, record });
        await store.removeErased(tenant.id, isoNow(clock));
        log.info("tenant erased", {
          event: "tenants.tenant.deleted",
          tenant_id: tenant.id,
          steps: done,
          aggregates: report.aggregates,
          rows: report.rows,
        });
      } catch (error) {
        failed++;
        // The step it stopped at: the first not recorded done (none when past them all).
        const step = remainingSteps(erasureSteps(runtime.modules), done)[0]?.name ?? null;
        log.error("tenant erasure stopped; the next run resumes it", {
          tenant_id: tenant.id,
          deleted_at: tenant.deletedAt,
          steps_done: done,
          step_failed: step,
          ...errorFields(error),
        });
        // Counted for the platform's view; a registry that refuses this too is already said above.
        await store
          .recordFailure(tenant.id, step, erasureErrorText(error))
          .catch((recordError: unknown) =>
            log.warn("tenant erasure failure not recorded", { tenant_id: tenant.id, ...errorFields(recordError) }),
          );
      }
    }
    if (failed > 0) throw new Error(`${failed} tenant erasure(s) stopped part way`);
  },
};
