import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The tenant registry. D1 is a single-primary SQLite database, so the unique
 * slug is enforced atomically here; each tenant's own state lives in its
 * TenantDirectory Durable Object.
 */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  plan: text("plan").notNull(),
  /**
   * `provisioning` until the tenant's directory is initialised, then `active`;
   * `suspended` while an operator has stopped it (copied from its directory);
   * `deleting` from an operator's delete until the erasure job has erased its data,
   * when the row is removed for a tombstone in `erased_tenants` (the slug stays taken until then).
   */
  status: text("status").notNull(),
  createdAt: text("created_at").notNull(),
  suspendedAt: text("suspended_at"),
  suspendedReason: text("suspended_reason"),
  /** The directory's version of the tenant (1 at creation, +1 per change): a late copy never overwrites a newer one. */
  version: integer("version").notNull().default(1),
  /** When an operator asked to delete the tenant (null unless `deleting`): the erasure waits out the caches from then. */
  deletedAt: text("deleted_at"),
  /** The erasure's steps done so far, a JSON array of names (null unless `deleting`): a run resumes after them. */
  erasureDone: text("erasure_done"),
  /**
   * When the erasure job last took up the tenant (null until its first try): the job takes
   * the least recently tried first, so tenants whose erasure keeps failing go behind the
   * others instead of holding every run's places.
   */
  erasureTriedAt: text("erasure_tried_at"),
  /**
   * Tries of the erasure that failed since the delete (each try that ends erases the tenant, so
   * these are the tries in a row that failed), with the last one's step and error: what an
   * operator chasing a missed erasure deadline reads in the platform's view of the tenant.
   */
  erasureFailures: integer("erasure_failures").notNull().default(0),
  /** The step the last failed try stopped at (`module:<name>`, `aggregates`…), or null. */
  erasureFailedStep: text("erasure_failed_step"),
  /** The last failed try's error, `Name: message`, a failed query's values left out and cut short (erasureErrorText). */
  erasureError: text("erasure_error"),
});

/**
 * Tenants whose erasure finished: the id and when, nothing else. Consumers drop a late
 * event of such a tenant (a queue retry that outlived the erasure would otherwise write its
 * read-model row or audit entry again), as they drop those of a tenant still `deleting`.
 */
export const erasedTenants = sqliteTable(
  "erased_tenants",
  {
    id: text("id").primaryKey(),
    erasedAt: text("erased_at").notNull(),
  },
  // The hourly sweep reads the last 15 days' tombstones in this order, a range of the index,
  // while the table keeps one for every tenant ever erased.
  (t) => [index("erased_tenants_by_time").on(t.erasedAt, t.id)],
);
