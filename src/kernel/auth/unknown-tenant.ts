import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import type { TenantLookup } from "./types";

/**
 * The 404 for a platform operation's `tenant_id` that no tenant has. Operators know
 * tenants by slug, so one given where the id goes is answered with the id it belongs to.
 */
export async function unknownTenantId(
  lookup: TenantLookup | undefined,
  id: string,
  c: Context<AppEnv>,
): Promise<AppError> {
  const bySlug = lookup ? await lookup.bySlug(id, c).catch(() => null) : null;
  const detail = bySlug
    ? `no tenant has id ${id}: that is the slug of tenant ${bySlug.id}; tenant_id takes the id`
    : `no tenant ${id}`;
  return new AppError("not_found", { detail });
}
