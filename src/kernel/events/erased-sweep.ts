/**
 * The read-model rows a queue batch wrote for a tenant before one of its objects refused
 * the batch as erased. Subscriptions run in order (the type's own projections before the
 * `"*"` ones: the audit log, which refuses every event of an erased tenant), so in the batch
 * that reveals an erasure a projection may already have written its row, and if the erasure's
 * tables step had run, nothing would delete it again. Swept here, but only once the erasure
 * is past its objects: before that, the tables step is still to come (it runs last), and the
 * stream catalog's rows are how the aggregates step finds the tenant's streams.
 */
import type { TenantLookup } from "../auth/types";
import { eraseTenantRows } from "../erasure/tables";
import { errorFields, type Logger } from "../log";
import type { ModuleDef } from "../modules/types";

export async function sweepErased(
  tenants: Iterable<string>,
  deps: { registry: TenantLookup | undefined; modules: readonly ModuleDef[]; env: Env; log: Logger },
): Promise<void> {
  const { registry, modules, env, log } = deps;
  if (!registry?.pastObjects) return;
  for (const tenantId of tenants) {
    try {
      if (!(await registry.pastObjects(env, tenantId))) continue;
      const counts = await eraseTenantRows(env, modules, tenantId);
      const rows = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
      log.info("rows written for an erased tenant swept", { tenant_id: tenantId, rows });
    } catch (error) {
      // The batch is not retried for it: its events are dropped either way, and a retry would
      // find the tenant gone and sweep nothing. The registry's module sweeps an erased tenant's
      // tables again for days after its erasure (docs/events.md), which deletes what this left.
      log.error("rows written for an erased tenant not swept", { tenant_id: tenantId, ...errorFields(error) });
    }
  }
}
