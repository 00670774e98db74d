import { and, asc, eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { errorFields, type Logger } from "../../kernel/log";
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

const TENANT_PAGE = 100;

/**
 * Calls `each` for every active tenant, in id order, a page at a time: for
 * jobs that visit each tenant's own objects. A tenant whose call throws is
 * logged and counted, and the walk goes on. Returns how many tenants it saw
 * and how many failed.
 *
 * @example
 * const { failed } = await forEachTenant(env.DB, log, (id) => auditLog(env, id).checkpoint());
 */
export async function forEachTenant(
  db: D1Database,
  log: Pick<Logger, "error">,
  each: (tenantId: string) => Promise<unknown>,
): Promise<{ seen: number; failed: number }> {
  const store = tenantStore(db);
  let seen = 0;
  let failed = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await store.list(TENANT_PAGE, cursor);
    for (const { id } of page) {
      seen++;
      try {
        await each(id);
      } catch (error) {
        failed++;
        log.error("tenant step failed", { tenant_id: id, ...errorFields(error) });
      }
    }
    cursor = page.at(-1)?.id;
    if (page.length < TENANT_PAGE || cursor === undefined) return { seen, failed };
  }
}
