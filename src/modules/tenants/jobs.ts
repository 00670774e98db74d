import type { JobDef } from "../../kernel/modules/types";
import { directory } from "../identity/directory/contract";
import { forEachTenant } from "./store";

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
  async run({ env, log, clock }) {
    const now = clock.now().toISOString();
    const purged = { one_time_tokens: 0, families: 0, refresh_tokens: 0 };
    const { seen, failed } = await forEachTenant(env.DB, log, async (id) => {
      const counts = await directory(env, id).purgeExpired({ now });
      purged.one_time_tokens += counts.one_time_tokens;
      purged.families += counts.families;
      purged.refresh_tokens += counts.refresh_tokens;
    });
    log.info("expired tokens purged", { tenants: seen, ...purged });
    if (failed > 0) throw new Error(`${failed} of ${seen} tenant directories failed to purge`);
  },
};
