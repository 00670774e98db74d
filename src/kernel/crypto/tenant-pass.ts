import { isTenantErased } from "../durable/tombstone";
import { errorFields } from "../log";
import type { ModuleDef, ModuleRuntime, SealedFields } from "../modules/types";
import { KeyMaterialDestroyed, MissingKeyVersion } from "./envelope";
import { addCounts, addOutcomes, type ResealOutcome, type VersionCounts } from "./key-versions";

/**
 * One tenant's pass over every module that declares sealed fields (ModuleDef.sealed):
 * re-sealing, or counting key versions. The kernel knows the modules only through
 * that declaration.
 */

/** The modules' sealed-field declarations, in dependency order. */
export const sealedFieldsOf = (modules: readonly ModuleDef[]): SealedFields[] =>
  modules.flatMap((m) => (m.sealed ? [m.sealed] : []));

/**
 * Why a tenant's pass failed, as the operator may read it: the two envelope failures an
 * operator causes or expects say what they are (their messages name a version or a
 * tenant, never key material); anything else is logged and named only as failed.
 */
function failure(error: unknown, tenantId: string, runtime: ModuleRuntime): string {
  if (error instanceof MissingKeyVersion) return error.message;
  if (error instanceof KeyMaterialDestroyed)
    return "the tenant's key material was destroyed: its values cannot be read";
  runtime.log.error("crypto tenant pass failed", { tenant_id: tenantId, ...errorFields(error) });
  return "failed; the Worker's log has the cause (crypto tenant pass failed)";
}

/** Re-seals a tenant's stale values, module by module; a failure is reported, not thrown, so other tenants go on. */
export async function reencryptTenant(
  fields: readonly SealedFields[],
  tenantId: string,
  runtime: ModuleRuntime,
): Promise<ResealOutcome & { tenant_id: string; error: string | null }> {
  const outcomes: ResealOutcome[] = [];
  try {
    for (const f of fields) outcomes.push(await f.reencrypt(tenantId, runtime));
    return { tenant_id: tenantId, ...addOutcomes(...outcomes), error: null };
  } catch (error) {
    if (erasedUnder(error, tenantId, runtime)) return { tenant_id: tenantId, ...addOutcomes(...outcomes), error: null };
    return { tenant_id: tenantId, ...addOutcomes(...outcomes), error: failure(error, tenantId, runtime) };
  }
}

/**
 * Whether the pass met an object its tenant's erasure emptied (the page of ids was read
 * before): nothing of the tenant is left to re-seal or count, so the pass over it is done,
 * not failed (a failure would make the operator's run `incomplete` for good).
 */
function erasedUnder(error: unknown, tenantId: string, runtime: ModuleRuntime): boolean {
  if (!isTenantErased(error)) return false;
  runtime.log.info("crypto tenant pass: tenant erased; nothing left to re-seal", { tenant_id: tenantId });
  return true;
}

/** Counts a tenant's values by kind and key version, over every module. */
export async function tenantVersions(
  fields: readonly SealedFields[],
  tenantId: string,
  runtime: ModuleRuntime,
): Promise<{ tenant_id: string; counts: VersionCounts; error: string | null }> {
  try {
    const counts = await Promise.all(fields.map((f) => f.versions(tenantId, runtime)));
    return { tenant_id: tenantId, counts: addCounts(...counts), error: null };
  } catch (error) {
    if (erasedUnder(error, tenantId, runtime)) return { tenant_id: tenantId, counts: {}, error: null };
    return { tenant_id: tenantId, counts: {}, error: failure(error, tenantId, runtime) };
  }
}
