import { AppError } from "../errors";

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
