import { and, eq, inArray, lt } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { processedEvents } from "../db/schema";
import { type ReadModelDb, rowsChanged } from "../read-models";

/**
 * How long a processed event id is remembered: Queues keep a message at most
 * 14 days, so no redelivery can arrive later than that; one more day of margin.
 */
export const PROCESSED_RETENTION_DAYS = 15;

const IDS_PER_QUERY = D1_MAX_PARAMS - 10;
const MARKS_PER_QUERY = Math.floor(D1_MAX_PARAMS / 3); // three columns each

/**
 * The consumers' idempotency ledger: which consumer applied which event id.
 * It lives in the read-model database (D1 or libSQL), beside the projections,
 * so a batch's writes and its marks commit together.
 */
export function processedLedger(orm: ReadModelDb) {
  const t = processedEvents;
  return {
    /**
     * Which of `eventIds` each consumer has recorded, as `<consumer>\u0000<event id>`:
     * one round trip for a whole queue batch.
     */
    async seenMany(eventIds: readonly string[]): Promise<Set<string>> {
      const queries = chunked([...new Set(eventIds)], IDS_PER_QUERY).map((ids) =>
        orm.select({ consumer: t.consumer, eventId: t.eventId }).from(t).where(inArray(t.eventId, ids)),
      );
      const [first, ...rest] = queries;
      if (!first) return new Set();
      const results = rest.length === 0 ? [await first] : await orm.batch([first, ...rest]);
      return new Set(results.flat().map((r) => `${r.consumer}\u0000${r.eventId}`));
    },
    /** The writes recording that `consumer` applied `eventIds`, for the caller's transaction. */
    marks(consumer: string, eventIds: readonly string[], now: Date): BatchItem<"sqlite">[] {
      const at = now.toISOString();
      return chunked(eventIds, MARKS_PER_QUERY).map((ids) =>
        orm
          .insert(t)
          .values(ids.map((eventId) => ({ consumer, eventId, processedAt: at })))
          .onConflictDoNothing(),
      );
    },
    async seen(consumer: string, eventId: string): Promise<boolean> {
      const row = await orm
        .select({ consumer: t.consumer })
        .from(t)
        .where(and(eq(t.consumer, consumer), eq(t.eventId, eventId)))
        .get();
      return row !== undefined;
    },
    async mark(consumer: string, eventId: string, now: Date): Promise<void> {
      await orm.insert(t).values({ consumer, eventId, processedAt: now.toISOString() }).onConflictDoNothing();
    },
    /** Forgets ids older than {@link PROCESSED_RETENTION_DAYS}; returns how many. */
    async purge(now: Date): Promise<number> {
      const cutoff = new Date(now.getTime() - PROCESSED_RETENTION_DAYS * 86_400_000).toISOString();
      const result = await orm.delete(t).where(lt(t.processedAt, cutoff)).run();
      return rowsChanged(result);
    },
  };
}
