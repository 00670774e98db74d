import { tenantRegistry } from "../auth/tenant-registry";
import type { TenantFilter } from "../auth/types";
import { isTenantErased } from "../durable/tombstone";
import { errorFields } from "../log";
import type { JobRuntime } from "../modules/types";

const PAGE = 100;

/**
 * Calls `each` for every live tenant of the registry (active and suspended: their tokens still
 * expire and their audit logs still grow), in id order, a page at a time: for jobs that visit
 * each tenant's own objects. `{ only: "active" }` leaves suspended tenants out in the page's
 * own query, for a job whose work a suspended tenant must not get (mail, a bill); deleted ones
 * (being erased, or erased) are never walked. The registry is the module that provides the
 * kernel's `TenantLookup`, so a job needs no other module's internals; without one there is no
 * tenant to visit. A tenant whose call throws is logged and counted, and the walk goes on; one
 * whose objects refuse it as erased (`isTenantErased`: erased since the page was read) is
 * skipped with an info line, not counted. A tenant suspended after its page was read is still
 * visited by that walk; a job that must not act for it reads it again (`findTenant`).
 *
 * @example
 * const { failed } = await forEachTenant(runtime, (id) => auditLog(runtime.env, id).checkpoint());
 * await forEachTenant(runtime, (id) => sendInvoice(runtime, id), { only: "active" });
 */
export async function forEachTenant(
  runtime: Pick<JobRuntime, "env" | "log" | "modules">,
  each: (tenantId: string) => Promise<unknown>,
  filter: TenantFilter = {},
): Promise<{ seen: number; failed: number }> {
  const registry = tenantRegistry(runtime.modules);
  let seen = 0;
  let failed = 0;
  if (!registry) return { seen, failed };
  let cursor: string | undefined;
  for (;;) {
    const page = await registry.ids(runtime.env, cursor, PAGE, filter);
    for (const id of page) {
      seen++;
      try {
        await each(id);
      } catch (error) {
        // Erased since the page was read (its objects refuse as erased): nothing left to do there.
        if (isTenantErased(error)) {
          runtime.log.info("tenant erased under a job; skipped", { tenant_id: id });
          continue;
        }
        failed++;
        runtime.log.error("tenant step failed", { tenant_id: id, ...errorFields(error) });
      }
    }
    cursor = page.at(-1);
    if (page.length < PAGE || cursor === undefined) return { seen, failed };
  }
}
