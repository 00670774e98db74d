import { and, asc, eq, gt, inArray, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { storedJson } from "../../kernel/db/stored-json";
import type { TenantState } from "../identity/directory/tenant-state";
import type { TenantRecord } from "./domain";
import { tenants } from "./read-model";

const columns = {
  id: tenants.id,
  slug: tenants.slug,
  name: tenants.name,
  plan: tenants.plan,
  status: tenants.status,
  created_at: tenants.createdAt,
  suspended_at: tenants.suspendedAt,
  suspended_reason: tenants.suspendedReason,
  version: tenants.version,
  deleted_at: tenants.deletedAt,
  erasure_done: tenants.erasureDone,
  erasure_tried_at: tenants.erasureTriedAt,
  erasure_failures: tenants.erasureFailures,
  erasure_failed_step: tenants.erasureFailedStep,
  erasure_error: tenants.erasureError,
};

/** Past provisioning and not deleted: the tenants operators change and jobs visit. */
export const LIVE: readonly TenantRecord["status"][] = ["active", "suspended"];
/** Live and not suspended: the tenants a job that mails or bills visits (`forEachTenant`'s `only: "active"`). */
export const ACTIVE: readonly TenantRecord["status"][] = ["active"];
/** What the platform's get and list show, and the request path finds (to refuse it): live ones and those being erased. */
export const VISIBLE: readonly TenantRecord["status"][] = [...LIVE, "deleting"];

type Row = Omit<TenantRecord, "status" | "erasure_done"> & { status: string; erasure_done: string | null };
const isVisible = (status: string): status is TenantRecord["status"] => (VISIBLE as readonly string[]).includes(status);
const record = (row: Row): TenantRecord => ({
  ...row,
  // Reads filter by status, so a row read here has one of these.
  status: isVisible(row.status) ? row.status : "active",
  erasure_done: parseSteps(row.erasure_done, row.id),
});

/** The erasure's recorded steps of tenant `id`: a JSON array of names, or none. */
export function parseSteps(raw: string | null, id: string): string[] {
  if (raw === null) return [];
  const parsed = storedJson(raw, `tenant ${id} erasure_done`);
  return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
}

/**
 * The tenant registry in D1. The unique slug is enforced here atomically (D1
 * is single-primary SQLite); each tenant's own state lives in its directory.
 */
export function tenantStore(db: D1Database) {
  const orm = drizzle(db);
  return {
    /** Reserves a slug for a new tenant (status `provisioning`); false when it is taken. */
    async reserve(tenant: Pick<TenantRecord, "id" | "slug" | "name" | "plan">, now: string): Promise<boolean> {
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
    /**
     * Copies the tenant's record as its directory answered after a change,
     * unless the registry holds that version or a newer one already (two
     * changes' copies may land out of order). The directory is the writer: a
     * copy that failed is redone by the operator's retry, which the directory
     * answers with the same state.
     */
    async mirror(state: TenantState): Promise<void> {
      await orm
        .update(tenants)
        .set({
          name: state.name,
          plan: state.plan,
          status: state.status,
          suspendedAt: state.suspended_at,
          suspendedReason: state.suspended_reason,
          version: state.version,
        })
        .where(and(eq(tenants.id, state.id), inArray(tenants.status, [...LIVE]), lt(tenants.version, state.version)));
    },
    /** A tenant by id or slug, of one of `statuses` (live ones unless told). */
    async find(
      by: "id" | "slug",
      value: string,
      statuses: readonly TenantRecord["status"][] = LIVE,
    ): Promise<TenantRecord | null> {
      const row = await orm
        .select(columns)
        .from(tenants)
        .where(and(inArray(tenants.status, [...statuses]), eq(by === "id" ? tenants.id : tenants.slug, value)))
        .get();
      return row ? record(row) : null;
    },
    /** Tenants of one of `statuses` (live ones unless told) after the cursor (an id), by id. */
    async list(
      limit: number,
      cursor: string | undefined,
      statuses: readonly TenantRecord["status"][] = LIVE,
    ): Promise<TenantRecord[]> {
      const rows = await orm
        .select(columns)
        .from(tenants)
        .where(and(inArray(tenants.status, [...statuses]), gt(tenants.id, cursor ?? "")))
        .orderBy(asc(tenants.id))
        .limit(limit);
      return rows.map(record);
    },
  };
}
