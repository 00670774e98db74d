import { and, eq, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { chunked } from "../db/params";
import { processedEvents } from "../db/schema";
import { jsonList, type ReadModelDb, rowsChanged } from "../read-models";

/**
 * How long a processed event id is remembered: Queues keep a message at most
 * 14 days, so no redelivery can arrive later than that; one more day of margin.
 */
export const PROCESSED_RETENTION_DAYS = 15;

const t = processedEvents;

/**
 * Event ids per statement: a queue batch (at most 1,250; 2,500 in production) and a replay call (at most 5,000)
 * are one; anything larger is split, so no JSON list nears D1's 2 MB per bound value (~40
 * bytes an id).
 */
const IDS_PER_STATEMENT = 10_000;

/**
 * The ledger rows of `consumers` among `eventIds`: each pair is looked up in the primary
 * key (consumer, event_id). Exported so a test can ask SQLite for the query's plan.
 */
export function seenQuery(orm: ReadModelDb, consumers: readonly string[], eventIds: readonly string[]) {
  return orm
    .select({ consumer: t.consumer, eventId: t.eventId })
    .from(t)
    .where(
      sql`${t.consumer} in ${jsonList([...new Set(consumers)])} and ${t.eventId} in ${jsonList([...new Set(eventIds)])}`,
    );
}

/**
 * The consumers' idempotency ledger: which consumer applied which event id.
 * It lives in the read-model database (D1 or libSQL), beside the projections,
 * so a batch's writes and its marks commit together.
 */
export function processedLedger(orm: ReadModelDb) {
  return {
    /**
     * Which of `eventIds` the `consumers` have recorded, as `<consumer>\u0000<event id>`:
     * one round trip for a whole queue batch. Naming the consumers lets SQLite look each
     * pair up in the primary key (consumer, event_id); by event id alone it would scan the
     * whole ledger, which holds every event of the last 15 days.
     */
    async seenMany(consumers: readonly string[], eventIds: readonly string[]): Promise<Set<string>> {
      if (consumers.length === 0) return new Set();
      const [first, ...rest] = chunked([...new Set(eventIds)], IDS_PER_STATEMENT).map((ids) =>
        seenQuery(orm, consumers, ids),
      );
      if (!first) return new Set();
      const results = rest.length === 0 ? [await first] : await orm.batch([first, ...rest]);
      return new Set(results.flat().map((r) => `${r.consumer}\u0000${r.eventId}`));
    },
    /**
     * The write recording that `consumer` applied `eventIds`, for the caller's transaction:
     * a statement with three parameters per 10,000 ids (building a statement costs drizzle
     * a few µs per parameter, and a queue batch marks hundreds).
     */
    marks(consumer: string, eventIds: readonly string[], now: Date): BatchItem<"sqlite">[] {
      const at = now.toISOString();
      return chunked(eventIds, IDS_PER_STATEMENT).map((ids) =>
        orm
          .insert(t)
          // `where true`: SQLite needs it to tell the upsert clause from a join's `on`.
          .select(sql`select ${consumer}, value, ${at} from json_each(${JSON.stringify(ids)}) where true`)
          .onConflictDoNothing(),
      );
    },
    /**
     * The marks of a batch subscription's writes, which claim the events: unlike {@link marks} an id
     * already recorded fails the statement, and with it the transaction that holds the writes. Two
     * paths that each read the ledger before either committed (a replay and the queue, an inline
     * pass and the queue) would otherwise both apply the event, and a projection that adds (a count)
     * would count it twice.
     */
    claims(consumer: string, eventIds: readonly string[], now: Date): BatchItem<"sqlite">[] {
      const at = now.toISOString();
      return chunked([...new Set(eventIds)], IDS_PER_STATEMENT).map((ids) =>
        orm.insert(t).select(sql`select ${consumer}, value, ${at} from json_each(${JSON.stringify(ids)})`),
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
