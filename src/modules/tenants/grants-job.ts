import { systemOrigin } from "../../kernel/events/origin";
import { forEachTenant } from "../../kernel/jobs/each-tenant";
import { roleGrants } from "../../kernel/modules/grants";
import type { JobDef } from "../../kernel/modules/types";
import { forgetTenantPrincipals } from "../identity/authenticators";
import { directory } from "../identity/directory/contract";

/**
 * Hourly, for every tenant: its directory adds the registered modules' grants
 * (`ModuleDef.grants`) that it never applied to its default roles, so a module
 * deployed after a tenant was created reaches that tenant's members without its
 * admin editing the role. Each directory keeps the ledger of what it applied
 * (identity/directory/module-grants.ts), so a grant its admin removed stays removed
 * and a second run changes nothing. An operator runs it right after a deploy
 * (`npx plinth jobs run tenants apply-grants`) rather than wait for the hour.
 */
export const applyGrants: JobDef = {
  name: "apply-grants",
  cron: "20 * * * *",
  retry: { attempts: 3, base_ms: 10_000, max_ms: 60_000 },
  async run(runtime) {
    const { env, log, clock, modules } = runtime;
    const grants = roleGrants(modules);
    // The audit log names the job as the actor of every role it changes.
    const ctx = systemOrigin(clock, "tenants/apply-grants");
    let added = 0;
    let baselined = 0;
    // Suspended tenants too, so one resumed has its members' grants at once, not an hour later.
    const { seen, failed } = await forEachTenant(runtime, async (id) => {
      const sync = await directory(env, id).applyGrants({ ctx, grants });
      added += sync.added.length;
      if (sync.baseline) baselined++;
      if (sync.added.length > 0) {
        // As after an admin's role change: this isolate's next request of a member sees the grant.
        forgetTenantPrincipals(id);
        log.info("module grants applied", { tenant_id: id, grants: sync.added });
      }
    });
    log.info("module grants synced", { tenants: seen, added, baselined });
    if (failed > 0) throw new Error(`${failed} of ${seen} tenant directories failed to apply module grants`);
  },
};
