import type { Tenant, TenantLookup } from "../../kernel/auth/types";
import { TtlCache } from "../../kernel/cache/ttl-cache";
import { erasureStore } from "./erasure-store";
import { erasedSeen, forgetGone, goneTenants } from "./gone";
import { ACTIVE, LIVE, tenantStore, VISIBLE } from "./store";

/**
 * Tenants (active or suspended) by slug and by id. Staleness bound: 30 s for
 * a tenant (so a plan change, a suspension or a resumption made in another
 * isolate takes effect here within 30 s; the isolate that made it forgets at
 * once), 5 s for "no such tenant" (so a tenant created elsewhere is found
 * quickly, and random slugs cannot hammer D1).
 */
export const TENANT_CACHE_TTL_MS = 30_000;
const caches = {
  slug: new TtlCache<string, Tenant | null>({ ttlMs: TENANT_CACHE_TTL_MS, maxEntries: 5_000 }),
  id: new TtlCache<string, Tenant | null>({ ttlMs: TENANT_CACHE_TTL_MS, maxEntries: 5_000 }),
};
const MISS_TTL_MS = 5_000;

async function load(db: D1Database, by: "slug" | "id", value: string): Promise<Tenant | null> {
  const cached = caches[by].get(value);
  if (cached !== undefined) return cached;
  // Deleting ones too: the request path refuses them as unknown (kernel/auth/guards.ts).
  const tenant = await tenantStore(db).find(by, value, VISIBLE);
  caches[by].set(value, tenant, tenant ? undefined : MISS_TTL_MS);
  return tenant;
}

/** Forgets cached answers about a tenant in this isolate (after creating or changing it here). */
export function forgetTenant(tenant: { id: string; slug: string }): void {
  caches.slug.delete(tenant.slug);
  caches.id.delete(tenant.id);
  forgetGone(tenant.id);
}

/** The tenant lookup the kernel uses: its request path (cached), and its jobs and objects (`ids`, `find`: uncached). */
export const tenantLookup: TenantLookup = {
  bySlug: (slug, c) => load(c.env.DB, "slug", slug),
  byId: (id, c) => load(c.env.DB, "id", id),
  ids: async (env, after, limit, filter) =>
    (await tenantStore(env.DB).list(limit, after, filter?.only === "active" ? ACTIVE : LIVE)).map((t) => t.id),
  find: async (env, id) => {
    const found = await tenantStore(env.DB).find("id", id, LIVE);
    if (!found) return null;
    const { slug, name, plan, created_at } = found;
    // Live ones only were read; the kernel's record has no room for the registry's own fields.
    return { id, slug, name, plan, status: found.status === "suspended" ? "suspended" : "active", created_at };
  },
  gone: (env, ids) => goneTenants(env.DB, ids),
  erasedSeen,
  pastObjects: (env, id) => erasureStore(env.DB).pastObjects(id),
  erasedAt: (env, id) => erasureStore(env.DB).erasedAt(id),
};
