import type { Tenant, TenantLookup } from "../../kernel/auth/types";
import { TtlCache } from "../../kernel/cache/ttl-cache";
import { tenantStore } from "./store";

/**
 * Active tenants by slug and by id. Staleness bound: 30 s for a tenant, 5 s
 * for "no such tenant" (so a tenant created elsewhere is found quickly, and
 * random slugs cannot hammer D1).
 */
const caches = {
  slug: new TtlCache<string, Tenant | null>({ ttlMs: 30_000, maxEntries: 5_000 }),
  id: new TtlCache<string, Tenant | null>({ ttlMs: 30_000, maxEntries: 5_000 }),
};
const MISS_TTL_MS = 5_000;

async function load(db: D1Database, by: "slug" | "id", value: string): Promise<Tenant | null> {
  const cached = caches[by].get(value);
  if (cached !== undefined) return cached;
  const tenant = await tenantStore(db).active(by, value);
  caches[by].set(value, tenant, tenant ? undefined : MISS_TTL_MS);
  return tenant;
}

/** Forgets cached answers about a slug (after creating its tenant in this isolate). */
export function forgetTenant(slug: string): void {
  caches.slug.delete(slug);
}

/** The tenant lookup the kernel's request path uses. */
export const tenantLookup: TenantLookup = {
  bySlug: (slug, c) => load(c.env.DB, "slug", slug),
  byId: (id, c) => load(c.env.DB, "id", id),
  ids: async (env, after, limit) => (await tenantStore(env.DB).list(limit, after)).map((t) => t.id),
};
