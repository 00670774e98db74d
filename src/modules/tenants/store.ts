import { and, asc, eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { TenantRecord } from "./domain";
import { tenants } from "./read-model";

const columns = {
  id: tenants.id,
  slug: tenants.slug,
  name: tenants.name,
  plan: tenants.plan,
  created_at: tenants.createdAt,
};

/**
 * The tenant registry in D1. The unique slug is enforced here atomically (D1
 * is single-primary SQLite); each tenant's own state lives in its directory.
 */
export function tenantStore(db: D1Database) {
  const orm = drizzle(db);
  return {
    /** Reserves a slug for a new tenant (status `provisioning`); false when it is taken. */
    async reserve(tenant: Omit<TenantRecord, "created_at">, now: string): Promise<boolean> {
      const result = await orm
        .insert(tenants)
        .values({ ...tenant, status: "provisioning", createdAt: now })
        .onConflictDoNothing({ target: tenants.slug })
        .run();
      return result.meta.changes === 1;
    },
    async activate(id: string): Promise<void> {
      await orm.update(tenants).set({ status: "active" }).where(eq(tenants.id, id));
    },
    async remove(id: string): Promise<void> {
      await orm.delete(tenants).where(eq(tenants.id, id));
    },
    /** An active tenant by id or slug. */
    async active(by: "id" | "slug", value: string): Promise<TenantRecord | null> {
      const row = await orm
        .select(columns)
        .from(tenants)
        .where(and(eq(tenants.status, "active"), eq(by === "id" ? tenants.id : tenants.slug, value)))
        .get();
      return row ?? null;
    },
    /** Active tenants after the cursor (an id), by id. */
    async list(limit: number, cursor: string | undefined): Promise<TenantRecord[]> {
      return orm
        .select(columns)
        .from(tenants)
        .where(and(eq(tenants.status, "active"), gt(tenants.id, cursor ?? "")))
        .orderBy(asc(tenants.id))
        .limit(limit);
    },
  };
}
