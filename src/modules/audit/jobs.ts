import type { JobDef } from "../../kernel/modules/types";
import { tenantStore } from "../tenants/store";
import { auditLog } from "./contract";

/**
 * Hourly: signs a checkpoint for every tenant whose log advanced since its
 * last one (the DO skips a log that did not). Tenants come from the tenants
 * module's registry, a page at a time.
 */
export const hourlyCheckpoints: JobDef = {
  name: "checkpoint",
  cron: "0 * * * *",
  async run({ env, log }) {
    let failed = 0;
    let seen = 0;
    let cursor: string | undefined;
    for (;;) {
      const page = await tenantStore(env.DB).list(100, cursor);
      for (const { id } of page) {
        seen++;
        try {
          await auditLog(env, id).checkpoint();
        } catch (error) {
          failed++;
          log.error("audit checkpoint failed", { tenant_id: id, error: String(error) });
        }
      }
      cursor = page.at(-1)?.id;
      if (page.length < 100 || cursor === undefined) break;
    }
    if (failed > 0) throw new Error(`${failed} of ${seen} audit checkpoints failed`);
  },
};
