import { providerOf } from "../modules/providers";
import type { ModuleDef } from "../modules/types";
import type { LiveTenant, TenantLookup } from "./types";

/** The tenant registry: the lookup the one module that keeps it provides (ModuleDef.auth.tenants), if any. */
export const tenantRegistry = (modules: readonly ModuleDef[]): TenantLookup | undefined =>
  providerOf(modules, "tenants");

/**
 * Of `ids`, the deleted tenants (being erased, or erased), whose queued work consumers drop
 * rather than let it write back what the erasure removed; none without a registry.
 */
export async function deletedTenants(
  registry: TenantLookup | undefined,
  env: Env,
  ids: readonly string[],
): Promise<ReadonlySet<string>> {
  // A message that names no tenant ("" from a body without one) is nobody's to drop.
  const named = ids.filter((id) => id !== "");
  return registry && named.length > 0 ? registry.gone(env, named) : new Set();
}

/**
 * A tenant's record (id, slug, name, plan, status, created_at) read now from the registry, for
 * code with no request: a job (`findTenant(runtime, tenantId)`) or a Durable Object built over
 * the platform (`findTenant({ env: this.env, modules: platform.modules }, tenantId)`). Null
 * when no tenant has the id, when it is deleted (being erased, or erased), or when no module
 * keeps a registry. The caller names no module: the registry is whichever provides the
 * kernel's `TenantLookup`.
 *
 * @example
 * const tenant = await findTenant(runtime, tenantId);
 * if (tenant?.status !== "active") return; // suspended or gone: no invoice
 */
export async function findTenant(
  from: { env: Env; modules: readonly ModuleDef[] },
  tenantId: string,
): Promise<LiveTenant | null> {
  const registry = tenantRegistry(from.modules);
  return registry ? registry.find(from.env, tenantId) : null;
}
