import type { JobDef } from "../../kernel/modules/types";
import { forEachTenant } from "../tenants/store";
import { auditLog } from "./contract";

/**
 * Hourly: signs a checkpoint for every tenant whose log advanced since its
 * last one (the DO skips a log that did not, so a retry redoes only what
 * failed). Tenants come from the tenants module's registry.
 */
export const hourlyCheckpoints: JobDef = {
  name: "checkpoint",
  cron: "0 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run({ env, log }) {
    const { seen, failed } = await forEachTenant(env.DB, log, async (id) => {
      await auditLog(env, id).checkpoint();
    });
    if (failed > 0) throw new Error(`${failed} of ${seen} audit checkpoints failed`);
  },
};
