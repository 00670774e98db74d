import { and, count, desc, eq, gt, isNotNull, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { newId } from "../crypto";
import { deadLetters } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { letterKey } from "../queues/letter-key";
import { stringField } from "../queues/message-fields";
import { claimLapsesAt } from "../queues/replay-claim";

/** How many dead letters have an event type (null: none could be read). */
export interface TypeCount {
  type: string | null;
  count: number;
}

/** How many dead letters wait for a tenant (null: the message named none). */
export interface TenantCount {
  tenant: string | null;
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
  /** While (and after) a replay claims the letter: when its claim lapses (queues/replay-claim.ts). */
  replay_claim_lapses_at: string | null;
}

/** An event dead letter as its audit record names it (queues/dead-letter-audit.ts): the letter, and its event. */
export const eventLetter = (letter: DeadLetter & { tenant_id: string | null }) => ({
  id: letter.id,
  tenant_id: letter.tenant_id,
  facts: { event_id: stringField(letter.event, "id"), event_type: letter.event_type },
});

/** What is stored of a message: a queue message, or one event of a pack (`<message id>/<index>`). */
export type DeadLetterInput = Pick<Message<unknown>, "id" | "body" | "attempts">;

/** Messages no consumer could handle, kept in D1 so nothing is dropped: listed, inspected, replayed. */
export function deadLetterStore(db: D1Database) {
  const orm = drizzle(db);
  const t = deadLetters;
  const view = (r: typeof t.$inferSelect): DeadLetter => {
    const stored = storedJson(r.body, `dead letter ${r.id} body`);
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
      replay_claim_lapses_at: claimLapsesAt(r.claimedAt),
    };
  };
  return {
    /**
     * Stores a message with why it failed, once per event (queues/letter-key.ts): true when this
     * call stored it, false when a letter of that event was there already (the same message
     * delivered again, or sent back and returned under a new message id). A letter already
     * replayed whose event comes back under another message id (the replay failed again) waits
     * again, as this delivery: the same letter, pending, so nothing is lost and nothing doubled.
     * So does one a replay has claimed but not marked yet: its event can fail again at once (a
     * malformed one is a dead letter on its first delivery, settle.ts) before the replay marks
     * it, and that mark, which ends only its own claim (queues/replay-claim.ts), then leaves it.
     */
    async store(queue: string, message: DeadLetterInput, reason: string, now: Date): Promise<boolean> {
      // A letter of this event already there is taken back, as this delivery, only when a replay
      // sent or claimed it and the event came back under another message id; any other (the same
      // message delivered again, a letter still pending) stays. The second clause ignores a
      // conflict on the message id's own index.
      const excluded = (column: string) => sql.raw(`excluded."${column}"`);
      const inserted = await orm
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
          letterKey: await letterKey("event", message.body),
        })
        .onConflictDoUpdate({
          target: t.letterKey,
          set: {
            queue: excluded("queue"),
            messageId: excluded("message_id"),
            body: excluded("body"),
            attempts: excluded("attempts"),
            receivedAt: excluded("received_at"),
            replayedAt: null,
            claimedAt: null,
          },
          setWhere: and(or(isNotNull(t.replayedAt), isNotNull(t.claimedAt)), ne(t.messageId, excluded("message_id"))),
        })
        .onConflictDoNothing()
        .returning({ id: t.id });
      return inserted.length > 0;
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
    /**
     * Every tenant's dead letters (or one tenant's), newest first, after the cursor (an id),
     * with whose each is: the platform operator's view (`pending`: not replayed yet).
     */
    async listAll(
      limit: number,
      { cursor, tenantId, pending }: { cursor?: string; tenantId?: string; pending?: boolean },
    ): Promise<(DeadLetter & { tenant_id: string | null })[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(
          and(
            tenantId === undefined ? undefined : eq(t.tenantId, tenantId),
            pending ? isNull(t.replayedAt) : undefined,
            cursor ? lt(t.id, cursor) : undefined,
          ),
        )
        .orderBy(desc(t.id))
        .limit(limit);
      return rows.map((r) => ({ ...view(r), tenant_id: r.tenantId }));
    },
    /** Letters not replayed yet, by id after `after`, with whose each is: what the report walks. */
    async waiting(after: string | undefined, limit: number): Promise<(DeadLetter & { tenant_id: string | null })[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(and(isNull(t.replayedAt), after ? gt(t.id, after) : undefined))
        .orderBy(t.id)
        .limit(limit);
      return rows.map((r) => ({ ...view(r), tenant_id: r.tenantId }));
    },
    /**
     * Letters not replayed yet with an id after `after`, counted by event type and by tenant:
     * those the hourly report counts without reading them one by one.
     */
    async waitingCountsAfter(after: string): Promise<{ byType: TypeCount[]; byTenant: TenantCount[] }> {
      const waitingAfter = and(isNull(t.replayedAt), gt(t.id, after));
      const [byType, byTenant] = await orm.batch([
        orm.select({ type: t.eventType, count: count() }).from(t).where(waitingAfter).groupBy(t.eventType),
        orm.select({ tenant: t.tenantId, count: count() }).from(t).where(waitingAfter).groupBy(t.tenantId),
      ]);
      return { byType, byTenant };
    },
    /**
     * A dead letter by id, with whose it is: of any tenant (the platform operator's replay and
     * dismissal), or only of `tenantId` (a tenant admin's).
     */
    async find(id: string, tenantId?: string): Promise<(DeadLetter & { tenant_id: string | null }) | null> {
      const row = await orm
        .select()
        .from(t)
        .where(and(eq(t.id, id), tenantId === undefined ? undefined : eq(t.tenantId, tenantId)))
        .get();
      return row ? { ...view(row), tenant_id: row.tenantId } : null;
    },
    /**
     * Forgets a letter nobody will replay (its module is gone, its event already applied), of one
     * tenant or (the operator's) any: it no longer waits nor is counted. Returns what it was, for
     * the log line that records the dismissal, or null when there is no such letter.
     */
    async dismiss(id: string, tenantId?: string): Promise<(DeadLetter & { tenant_id: string | null }) | null> {
      const rows = await orm
        .delete(t)
        .where(and(eq(t.id, id), tenantId === undefined ? undefined : eq(t.tenantId, tenantId)))
        .returning();
      const row = rows[0];
      return row ? { ...view(row), tenant_id: row.tenantId } : null;
    },
    /**
     * Counts by event type (null: the message had none), every tenant's, of the letters
     * received in `(after, until]`: the hourly report's `new` (letters dismissed since are not
     * there; `plinth_dead_letters_total` counts every letter as its consumer stores it).
     * (The waiting ones it reads itself, to tell those a catch-up already applied.)
     */
    async receivedByType(after: Date | null, until: Date): Promise<TypeCount[]> {
      return orm
        .select({ type: t.eventType, count: count() })
        .from(t)
        .where(and(after ? gt(t.receivedAt, after.toISOString()) : undefined, lte(t.receivedAt, until.toISOString())))
        .groupBy(t.eventType);
    },
  };
}
