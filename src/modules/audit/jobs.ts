import { forEachTenant } from "../../kernel/jobs/each-tenant";
import type { JobDef } from "../../kernel/modules/types";
import { auditLog } from "./contract";

/**
 * Hourly: signs a checkpoint for every tenant whose log advanced since its
 * last one (the DO skips a log that did not, so a retry redoes only what
 * failed). Tenants come from the platform's registry.
 */
export const hourlyCheckpoints: JobDef = {
  name: "checkpoint",
  cron: "0 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run(runtime) {
    // Suspended tenants too: their logs still grow (the suspension and the platform's actions).
    const { seen, failed } = await forEachTenant(runtime, async (id) => {
      await auditLog(runtime.env, id).checkpoint();
    });
    if (failed > 0) throw new Error(`${failed} of ${seen} audit checkpoints failed`);
  },
};
