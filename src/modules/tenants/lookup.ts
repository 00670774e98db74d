import type { Tenant, TenantLookup } from "../../kernel/auth/types";
import { TtlCache } from "../../kernel/cache/ttl-cache";

/**
 * Active tenants by slug and by id. Staleness bound: 30 s for a tenant, 5 s
 * for "no such tenant" (so a tenant created elsewhere is found quickly, and
 * random slugs cannot hammer D1).
 */
const bySlug = new TtlCache<string, Tenant | null>({ ttlMs: 30_000, maxEntries: 5_000 });
const byId = new TtlCache<string, Tenant | null>({ ttlMs: 30_000, maxEntries: 5_000 });
const MISS_TTL_MS = 5_000;

const SELECT = "select id, slug, name, plan, created_at from tenants where status = 'active' and ";

async function load(
  db: D1Database,
  cache: TtlCache<string, Tenant | null>,
  column: "slug" | "id",
  value: string,
): Promise<Tenant | null> {
  const cached = cache.get(value);
  if (cached !== undefined) return cached;
  const tenant = await db.prepare(`${SELECT}${column} = ?`).bind(value).first<Tenant>();
  cache.set(value, tenant ?? null, tenant ? undefined : MISS_TTL_MS);
  return tenant ?? null;
}

/** Forgets cached answers about a slug (after creating its tenant in this isolate). */
export function forgetTenant(slug: string): void {
  bySlug.delete(slug);
}

/** The tenant lookup the kernel's request path uses. */
export const tenantLookup: TenantLookup = {
  bySlug: (slug, c) => load(c.env.DB, bySlug, "slug", slug),
  byId: (id, c) => load(c.env.DB, byId, "id", id),
};
