import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import type { TenantLookup } from "./types";

/**
 * The 404 for a tenant id that no tenant has, on a platform route or operation. Operators
 * know tenants by slug, so one given where the id goes is answered with the id it belongs
 * to. `bySlug` finds a tenant by slug (a failure there only loses the hint); `takes` names
 * what wanted the id ("tenant_id", "the platform route"). The id is echoed quoted and cut
 * to 64 characters.
 */
export async function unknownTenantId(
  id: string,
  bySlug: (slug: string) => Promise<{ id: string } | null>,
  takes: string,
): Promise<AppError> {
  const found = await bySlug(id).catch(() => null);
  const shown = JSON.stringify(id.slice(0, 64));
  const detail = found
    ? `no tenant has id ${shown}: that is the slug of tenant ${found.id}; ${takes} takes the id`
    : `no tenant has id ${shown}`;
  return new AppError("not_found", { detail });
}

/**
 * Refuses a platform route's `tenant_id` filter naming no tenant with {@link unknownTenantId}'s
 * 404, as events replay does: a filter of nobody answered an empty page or "replayed 0", and an
 * operator who gave the slug (`--tenant acme`) took that for "nothing waits". Deleting tenants
 * pass (their letters are there until the erasure removes them). No lookup, no check.
 */
export async function refuseUnknownTenantFilter(
  lookup: TenantLookup | undefined,
  tenantId: string | undefined,
  c: Context<AppEnv>,
): Promise<void> {
  if (tenantId === undefined || !lookup || (await lookup.byId(tenantId, c))) return;
  throw await unknownTenantId(tenantId, (slug) => lookup.bySlug(slug, c), "tenant_id");
}

/**
 * The 404 for a platform route's tenant that is not live: for one whose erasure finished, when
 * that was (its tombstone, the operator's proof of erasure), else {@link unknownTenantId}'s.
 * Names no module: the registry is whichever provides the kernel's lookup.
 */
export async function unknownPlatformTenant(
  lookup: TenantLookup | undefined,
  id: string,
  c: Context<AppEnv>,
): Promise<AppError> {
  const erasedAt = await (lookup?.erasedAt?.(c.env, id) ?? Promise.resolve(null)).catch(() => null);
  if (erasedAt) {
    return new AppError("not_found", {
      detail: `tenant ${id} was erased at ${erasedAt}; nothing of it is kept but its id and that time`,
    });
  }
  return unknownTenantId(id, (slug) => lookup?.bySlug(slug, c) ?? Promise.resolve(null), "the platform route");
}
