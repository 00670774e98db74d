import { isoNow } from "../../kernel/clock";
import type { Logger } from "../../kernel/log";
import type { TenantRecord } from "./domain";
import { erasureStore } from "./erasure-store";
import { unknownTenant } from "./lifecycle";
import { forgetTenant } from "./lookup";
import type { PlatformCall } from "./service";
import { tenantStore, VISIBLE } from "./store";

/**
 * An operator's delete: the tenant becomes `deleting` in the registry, which every
 * request resolves against, so its requests answer `404 tenant_not_found` at once in
 * this isolate and within the lookup's 30 s everywhere; the erasure job erases its
 * data after that (tenants/erasure-job.ts). Only the registry changes here: the
 * tenant's own records (and its audit log) are about to be erased, so nothing is
 * recorded there; the platform's record is the log line. A repeat while it is being
 * erased answers the same; once erased, the tenant is unknown (`404`).
 */
export async function deleteTenant(
  env: Env,
  id: string,
  call: PlatformCall & { log: Pick<Logger, "info"> },
): Promise<TenantRecord> {
  const store = tenantStore(env.DB);
  const known = await store.find("id", id, VISIBLE);
  if (!known) throw await unknownTenant(env.DB, id);
  if (known.status !== "deleting" && (await erasureStore(env.DB).markDeleting(id, isoNow(call.clock)))) {
    call.log.info("tenant deletion requested", { event: "tenants.tenant.deletion_requested", tenant_id: id });
  }
  forgetTenant(known);
  const now = await store.find("id", id, VISIBLE);
  // Erased between the two reads (a repeat long after the first): it is gone.
  if (now?.status !== "deleting") throw await unknownTenant(env.DB, id);
  return now;
}
