import { and, asc, eq, inArray, lte, notExists, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { AGGREGATES_STEP } from "../../kernel/erasure/steps";
import { erasedTenants, tenants } from "./read-model";
import { LIVE, parseSteps } from "./store";

/** A tenant whose erasure is due: who, when it was deleted, and the steps earlier runs recorded done. */
export interface DueErasure {
  id: string;
  slug: string;
  deletedAt: string | null;
  done: string[];
}

/** Where a walk of the tombstones stands: the last one read (its time, then its id). */
export interface ErasedCursor {
  erasedAt: string;
  id: string;
}

/** The start of a walk of the tombstones written at or after `since` (ids are never empty). */
export const erasedFrom = (since: string): ErasedCursor => ({ erasedAt: since, id: "" });

/**
 * The tombstones after `after` in (erased_at, id) order, at most `limit`: the index
 * erased_tenants_by_time holds them in that order, so a page is a range of it, however many
 * tombstones older than the window the table keeps (one per tenant ever erased). An id the
 * registry holds again is left out, though none can be (ids are never reused): the sweep
 * touches only tenants that are erased.
 */
export function erasedSinceQuery(orm: DrizzleD1Database, after: ErasedCursor, limit: number) {
  return orm
    .select({ id: erasedTenants.id, erasedAt: erasedTenants.erasedAt })
    .from(erasedTenants)
    .where(
      and(
        // A row value, which SQLite searches the index by; `erased_at >= ? and id > ?` would not page.
        sql`(${erasedTenants.erasedAt}, ${erasedTenants.id}) > (${after.erasedAt}, ${after.id})`,
        // By the registry's primary key, a lookup per tombstone, not a read of every tenant.
        notExists(orm.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, erasedTenants.id))),
      ),
    )
    .orderBy(asc(erasedTenants.erasedAt), asc(erasedTenants.id))
    .limit(limit);
}

/**
 * The registry's side of offboarding. Every write names the tenant's id and its
 * status, so a row that is not being deleted is never touched: a late copy from
 * the directory cannot revive a deleting tenant (`mirror` takes live rows only),
 * and the erasure cannot remove a live one.
 */
export function erasureStore(db: D1Database) {
  const orm = drizzle(db);
  const deleting = (id: string) => and(eq(tenants.id, id), eq(tenants.status, "deleting"));
  return {
    /** Marks a live tenant `deleting` from `now`; false when it was not live (already deleting: a repeat). */
    async markDeleting(id: string, now: string): Promise<boolean> {
      const result = await orm
        .update(tenants)
        .set({
          status: "deleting",
          deletedAt: now,
          erasureDone: "[]",
          erasureTriedAt: null,
          erasureFailures: 0,
          erasureFailedStep: null,
          erasureError: null,
        })
        .where(and(eq(tenants.id, id), inArray(tenants.status, [...LIVE])))
        .run();
      return result.meta.changes === 1;
    },
    /**
     * Tenants deleted at or before `before` (the caches' grace past), at most `limit`: those
     * never tried first (SQLite sorts nulls first), then the least recently tried, each group
     * oldest deletion first. So tenants whose erasure fails on every try take their turn behind
     * the others rather than every run's places, and each of `n` due tenants is taken within
     * ⌈n / limit⌉ runs.
     */
    async due(before: string, limit: number): Promise<DueErasure[]> {
      const rows = await orm
        .select({ id: tenants.id, slug: tenants.slug, deletedAt: tenants.deletedAt, done: tenants.erasureDone })
        .from(tenants)
        .where(and(eq(tenants.status, "deleting"), lte(tenants.deletedAt, before)))
        .orderBy(asc(tenants.erasureTriedAt), asc(tenants.deletedAt), asc(tenants.id))
        .limit(limit);
      return rows.map((r) => ({ ...r, done: parseSteps(r.done, r.id) }));
    },
    /**
     * Records that a run takes up the tenant's erasure now, before it starts: a try that
     * fails, or whose run dies half way, puts the tenant behind those not tried since.
     */
    async markTried(id: string, now: string): Promise<void> {
      await orm.update(tenants).set({ erasureTriedAt: now }).where(deleting(id));
    },
    /**
     * Records a try that failed at `step` (null: past every step, or before the first) with
     * `error` (already cleaned: erasureErrorText), one more in the row, for the platform's view.
     */
    async recordFailure(id: string, step: string | null, error: string): Promise<void> {
      await orm
        .update(tenants)
        .set({ erasureFailures: sql`${tenants.erasureFailures} + 1`, erasureFailedStep: step, erasureError: error })
        .where(deleting(id));
    },
    /** Records the steps done so far, so the next run resumes after them. */
    async recordSteps(id: string, done: readonly string[]): Promise<void> {
      await orm
        .update(tenants)
        .set({ erasureDone: JSON.stringify(done) })
        .where(deleting(id));
    },
    /** When the tenant's erasure finished (its tombstone), or null. */
    async erasedAt(id: string): Promise<string | null> {
      const [row] = await orm
        .select({ at: erasedTenants.erasedAt })
        .from(erasedTenants)
        .where(eq(erasedTenants.id, id))
        .limit(1);
      return row?.at ?? null;
    },
    /** A page of tombstones after `after` ({@link erasedSinceQuery}): what the sweep of late rows walks. */
    async erasedAfter(after: ErasedCursor, limit: number): Promise<ErasedCursor[]> {
      return await erasedSinceQuery(orm, after, limit);
    },
    /**
     * Whether the tenant's erasure is past its objects: finished (its tombstone), or its
     * aggregates step recorded done, so that only the tables step is left, or nothing.
     */
    async pastObjects(id: string): Promise<boolean> {
      const [row] = await orm.select({ done: tenants.erasureDone }).from(tenants).where(deleting(id)).limit(1);
      if (row) return parseSteps(row.done, id).includes(AGGREGATES_STEP);
      return (await this.erasedAt(id)) !== null;
    },
    /** Of `ids` (at most 45: each is bound twice), those `deleting` or erased. */
    async goneAmong(ids: readonly string[]): Promise<Set<string>> {
      const rows = await orm
        .select({ id: tenants.id })
        .from(tenants)
        .where(and(inArray(tenants.id, [...ids]), eq(tenants.status, "deleting")))
        .union(
          orm
            .select({ id: erasedTenants.id })
            .from(erasedTenants)
            .where(inArray(erasedTenants.id, [...ids])),
        );
      return new Set(rows.map((row) => row.id));
    },
    /**
     * Removes the row of a tenant whose erasure finished (its id is unknown and its slug free
     * from now on) and leaves its tombstone, in one transaction: the tombstone is written only
     * from a `deleting` row, so a live tenant never gets one, and a repeat changes nothing.
     */
    async removeErased(id: string, now: string): Promise<void> {
      await orm.batch([
        orm
          .insert(erasedTenants)
          .select(
            orm
              .select({ id: tenants.id, erasedAt: sql<string>`${now}`.as("erased_at") })
              .from(tenants)
              .where(deleting(id)),
          )
          .onConflictDoNothing(),
        orm.delete(tenants).where(deleting(id)),
      ]);
    },
  };
}
