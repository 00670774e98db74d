import type { JobDef } from "../../kernel/modules/types";

/**
 * Hourly: signs a checkpoint for every tenant whose log advanced since its
 * last one (the DO skips a log that did not). Tenants come from D1 `tenants`.
 */
export const hourlyCheckpoints: JobDef = {
  name: "checkpoint",
  cron: "0 * * * *",
  async run({ env, log }) {
    const { results } = await env.DB.prepare("select id from tenants").all<{ id: string }>();
    let failed = 0;
    for (const { id } of results) {
      try {
        await env.AUDIT_LOG.getByName(id).checkpoint();
      } catch (error) {
        failed++;
        log.error("audit checkpoint failed", { tenant_id: id, error: String(error) });
      }
    }
    if (failed > 0) throw new Error(`${failed} of ${results.length} audit checkpoints failed`);
  },
};
