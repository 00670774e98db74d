import type { ModuleDef } from "../modules/types";
import type { TenantLookup } from "./types";

/** The tenant registry: the lookup the one module that keeps it provides (ModuleDef.auth.tenants), if any. */
export const tenantRegistry = (modules: readonly ModuleDef[]): TenantLookup | undefined =>
  modules.find((m) => m.auth?.tenants)?.auth?.tenants;

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
