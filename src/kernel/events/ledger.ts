import { and, count, desc, eq, gt, inArray, isNull, lt, lte } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import { newId } from "../crypto";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { deadLetters, processedEvents } from "../db/schema";
import { stringField } from "../queues/message-fields";

/**
 * How long a processed event id is remembered: Queues keep a message at most
 * 14 days, so no redelivery can arrive later than that; one more day of margin.
 */
export const PROCESSED_RETENTION_DAYS = 15;

const IDS_PER_QUERY = D1_MAX_PARAMS - 10;
const MARKS_PER_QUERY = Math.floor(D1_MAX_PARAMS / 3); // three columns each

/** The consumers' idempotency ledger in D1: which consumer applied which event id. */
export function processedLedger(db: D1Database) {
  const orm = drizzle(db);
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
      return result.meta.changes ?? 0;
    },
  };
}

/** How many dead letters have an event type (null: none could be read). */
export interface TypeCount {
  type: string | null;
  count: number;
}

/** A stored dead letter as operators see it. */
export interface DeadLetter {
  id: string;
  queue: string;
  message_id: string;
  event_type: string | null;
  reason: string;
  event: unknown;
  attempts: number;
  received_at: string;
  replayed_at: string | null;
}

/** Messages no consumer could handle, kept in D1 so nothing is dropped: listed, inspected, replayed. */
export function deadLetterStore(db: D1Database) {
  const orm = drizzle(db);
  const t = deadLetters;
  const view = (r: typeof t.$inferSelect): DeadLetter => {
    const stored: unknown = JSON.parse(r.body);
    return {
      id: r.id,
      queue: r.queue,
      message_id: r.messageId,
      event_type: r.eventType,
      reason: stringField(stored, "reason") ?? "unknown",
      event: typeof stored === "object" && stored !== null ? Reflect.get(stored, "body") : null,
      attempts: r.attempts,
      received_at: r.receivedAt,
      replayed_at: r.replayedAt,
    };
  };
  return {
    /** Stores a message (once per message id) with why it failed. */
    async store(queue: string, message: Message<unknown>, reason: string, now: Date): Promise<void> {
      await orm
        .insert(t)
        .values({
          id: newId(now.getTime()),
          queue,
          messageId: message.id,
          eventType: stringField(message.body, "type"),
          tenantId: stringField(message.body, "tenant_id"),
          body: JSON.stringify({ reason, body: message.body }),
          attempts: message.attempts,
          receivedAt: now.toISOString(),
        })
        .onConflictDoNothing();
    },
    /** A tenant's dead letters, newest first, after the cursor (an id). */
    async list(tenantId: string, limit: number, cursor: string | undefined): Promise<DeadLetter[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(and(eq(t.tenantId, tenantId), cursor ? lt(t.id, cursor) : undefined))
        .orderBy(desc(t.id))
        .limit(limit);
      return rows.map(view);
    },
    async get(tenantId: string, id: string): Promise<DeadLetter | null> {
      const row = await orm
        .select()
        .from(t)
        .where(and(eq(t.tenantId, tenantId), eq(t.id, id)))
        .get();
      return row ? view(row) : null;
    },
    async markReplayed(id: string, now: Date): Promise<void> {
      await orm.update(t).set({ replayedAt: now.toISOString() }).where(eq(t.id, id));
    },
    /**
     * Counts by event type (null: the message had none), every tenant's:
     * those not replayed yet (`waiting`), and those received in `(after, until]`.
     */
    async countsByType(after: Date | null, until: Date): Promise<{ waiting: TypeCount[]; received: TypeCount[] }> {
      const byType = { type: t.eventType, count: count() };
      const [waiting, received] = await orm.batch([
        orm.select(byType).from(t).where(isNull(t.replayedAt)).groupBy(t.eventType),
        orm
          .select(byType)
          .from(t)
          .where(and(after ? gt(t.receivedAt, after.toISOString()) : undefined, lte(t.receivedAt, until.toISOString())))
          .groupBy(t.eventType),
      ]);
      return { waiting, received };
    },
  };
}
