import { TtlCache } from "../../kernel/cache/ttl-cache";
import { erasureStore } from "./erasure-store";

/**
 * Which tenants are gone (deleted: being erased, or erased), for the queue consumer, which
 * drops their events (kernel TenantLookup.gone).
 *
 * Cached per isolate: "gone" for a day (a deletion is never undone), "not gone" for 30 s, the
 * request path's bound. The erasure waits 60 s after a delete (tenants/erasure-job.ts), so by
 * the time it runs no consumer still takes the tenant for live, and an event that arrives
 * later (a queue retry) is dropped rather than writing back a row the erasure removed.
 * A batch that outlives its check (a long one) is caught by the objects instead: an erased
 * one refuses, and the consumer then marks the tenant gone here at once (`erasedSeen`).
 */
const GONE_TTL_MS = 24 * 60 * 60 * 1000;
const LIVE_TTL_MS = 30_000;
const cache = new TtlCache<string, boolean>({ ttlMs: GONE_TTL_MS, maxEntries: 10_000 });
/** D1 binds at most 100 values per statement; each chunk's ids are bound twice. */
const CHUNK = 45;

/** Of `ids`, those of tenants that are `deleting` or erased. */
export async function goneTenants(db: D1Database, ids: readonly string[]): Promise<ReadonlySet<string>> {
  const gone = new Set<string>();
  const unknown: string[] = [];
  for (const id of new Set(ids)) {
    const cached = cache.get(id);
    if (cached === undefined) unknown.push(id);
    else if (cached) gone.add(id);
  }
  const store = erasureStore(db);
  for (let i = 0; i < unknown.length; i += CHUNK) {
    const chunk = unknown.slice(i, i + CHUNK);
    const goneHere = await store.goneAmong(chunk);
    for (const id of chunk) {
      cache.set(id, goneHere.has(id), goneHere.has(id) ? GONE_TTL_MS : LIVE_TTL_MS);
      if (goneHere.has(id)) gone.add(id);
    }
  }
  return gone;
}

/** Forgets this isolate's verdict on a tenant (after deleting it here: its consumers drop its events at once). */
export function forgetGone(id: string): void {
  cache.delete(id);
}

/**
 * Takes the tenant for gone in this isolate from now on: one of its objects refused the
 * queue consumer as erased (only an erasure marks an object so), which is surer than a
 * cached "not deleted" the consumer would otherwise keep for up to 30 s.
 */
export function erasedSeen(id: string): void {
  cache.set(id, true, GONE_TTL_MS);
}
