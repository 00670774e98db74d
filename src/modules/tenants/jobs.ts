import { forEachTenant } from "../../kernel/jobs/each-tenant";
import type { JobDef } from "../../kernel/modules/types";
import { directory } from "../identity/directory/contract";

/**
 * Hourly, for every tenant: its directory forgets expired or spent
 * verification and reset tokens, and refresh-token families that are revoked
 * or wholly expired (each directory in one transaction). Here rather than in
 * identity, which knows no tenant list: the tenants module keeps it.
 */
export const purgeTokens: JobDef = {
  name: "purge-tokens",
  cron: "30 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run(runtime) {
    const { env, log, clock } = runtime;
    const now = clock.now().toISOString();
    // Named so the log's redaction (any field naming a token) leaves the counts readable.
    const purged = { single_use: 0, families: 0, refresh: 0 };
    const { seen, failed } = await forEachTenant(runtime, async (id) => {
      const counts = await directory(env, id).purgeExpired({ now });
      purged.single_use += counts.one_time_tokens;
      purged.families += counts.families;
      purged.refresh += counts.refresh_tokens;
    });
    log.info("expired credentials purged", { tenants: seen, ...purged });
    if (failed > 0) throw new Error(`${failed} of ${seen} tenant directories failed to purge`);
  },
};
