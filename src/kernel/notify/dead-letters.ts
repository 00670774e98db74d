import { and, desc, eq, gt, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { newId } from "../crypto";
import { mailDeadLetters, mailSuppressions } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { letterKey } from "../queues/letter-key";
import { stringField } from "../queues/message-fields";
import { claimLapsesAt, unclaimed } from "../queues/replay-claim";

/** A stored mail dead letter as the operator sees it: never the content (it stays sealed in `message`). */
export interface MailDeadLetter {
  id: string;
  queue: string;
  message_id: string;
  mail_id: string | null;
  tenant_id: string | null;
  kind: string | null;
  reason: string;
  attempts: number;
  received_at: string;
  replayed_at: string | null;
  /** While (and after) a replay claims the letter: when its claim lapses (queues/replay-claim.ts). */
  replay_claim_lapses_at: string | null;
}

const view = (r: typeof mailDeadLetters.$inferSelect): MailDeadLetter => ({
  id: r.id,
  queue: r.queue,
  message_id: r.messageId,
  mail_id: r.mailId,
  tenant_id: r.tenantId,
  kind: r.kind,
  reason: r.reason,
  attempts: r.attempts,
  received_at: r.receivedAt,
  replayed_at: r.replayedAt,
  replay_claim_lapses_at: claimLapsesAt(r.claimedAt),
});

/** Which pending letters a replay takes: one tenant's, one queue's, those stored since a time (any of them). */
export interface PendingFilter {
  tenantId?: string;
  queue?: string;
  receivedSince?: Date;
}

/** Pending at `now` (and as `filter` narrows): not replayed, and under no live claim. */
const pendingAt = (now: Date, filter: PendingFilter = {}) =>
  and(
    isNull(mailDeadLetters.replayedAt),
    unclaimed(mailDeadLetters.claimedAt, now),
    filter.tenantId ? eq(mailDeadLetters.tenantId, filter.tenantId) : undefined,
    filter.queue ? eq(mailDeadLetters.queue, filter.queue) : undefined,
    filter.receivedSince ? gte(mailDeadLetters.receivedAt, filter.receivedSince.toISOString()) : undefined,
  );

/** What a letter keeps of its queue message: a delivery's, or a request's mail the queue never took (unqueued.ts). */
export type LetterMessage = Pick<Message<unknown>, "id" | "body" | "attempts">;

/** A mail dead letter as its audit record names it (queues/dead-letter-audit.ts): the letter, its mail and kind. */
export const mailLetter = (letter: MailDeadLetter) => ({
  id: letter.id,
  tenant_id: letter.tenant_id,
  facts: { mail_id: letter.mail_id, mail_kind: letter.kind },
});

/**
 * Mail the consumer gave up on, kept in D1 `mail_dead_letters` so nothing is
 * lost: the operator lists them and replays them to the mail queue once the
 * cause (a provider outage, a missing config) is fixed.
 */
export function mailDeadLetterStore(db: D1Database) {
  const orm = drizzle(db);
  const t = mailDeadLetters;
  return {
    /**
     * Stores a message with why it failed, once per mail (its tenant and mail id,
     * queues/letter-key.ts): `stored` when this call stored it, `duplicate` when a letter of that
     * mail was there already (the same message delivered again, or sent back to the mail queue and
     * returned under a new message id); a letter already replayed whose mail comes back under
     * another message id (the replay failed again) waits again, as this delivery (`stored`), and
     * so does one a replay has claimed but not marked yet: its mail can fail again (a provider's 422)
     * before the replay marks it, and that mark, which ends only its own claim, then leaves it;
     * `suppressed` when its recipient's account was deleted (suppressions.ts): refused in the same
     * statement that would store it, so no deletion can slip between a check and the insert.
     */
    async store(
      queue: string,
      message: LetterMessage,
      reason: string,
      now: Date,
      recipientDigest: string | null = null,
    ): Promise<"stored" | "duplicate" | "suppressed"> {
      const at = now.toISOString();
      const tenantId = stringField(message.body, "tenant_id");
      // Quoted as drizzle writes it: tests that fail this table's writes match the statement.
      const inserted = await db
        .prepare(
          `insert into "mail_dead_letters" (id, queue, message_id, mail_id, tenant_id, kind, reason, body, attempts, received_at, recipient_digest, letter_key)
           select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
           where not exists (select 1 from mail_suppressions where tenant_id = ? and digest = ? and until > ?)
           on conflict (letter_key) do update set queue = excluded.queue, message_id = excluded.message_id,
             reason = excluded.reason, body = excluded.body, attempts = excluded.attempts,
             received_at = excluded.received_at, recipient_digest = excluded.recipient_digest,
             replayed_at = null, claimed_at = null
             where (mail_dead_letters.replayed_at is not null or mail_dead_letters.claimed_at is not null)
               and mail_dead_letters.message_id <> excluded.message_id
           on conflict do nothing returning id`,
        )
        .bind(
          newId(now.getTime()),
          queue,
          message.id,
          stringField(message.body, "id"),
          tenantId,
          stringField(message.body, "kind"),
          reason,
          JSON.stringify(message.body),
          message.attempts,
          at,
          recipientDigest,
          await letterKey("mail", message.body),
          tenantId,
          recipientDigest,
          at,
        )
        .all();
      if (inserted.results.length > 0) return "stored";
      if (recipientDigest === null || tenantId === null) return "duplicate";
      const held = await orm
        .select({ digest: mailSuppressions.digest })
        .from(mailSuppressions)
        .where(
          and(
            eq(mailSuppressions.tenantId, tenantId),
            eq(mailSuppressions.digest, recipientDigest),
            gt(mailSuppressions.until, at),
          ),
        )
        .get();
      return held ? "suppressed" : "duplicate";
    },
    /** Newest first, after the cursor (an id); optionally one tenant's, optionally only those not replayed. */
    async list(
      limit: number,
      options: { cursor?: string; tenantId?: string; pending?: boolean } = {},
    ): Promise<MailDeadLetter[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(
          and(
            options.cursor ? lt(t.id, options.cursor) : undefined,
            options.tenantId ? eq(t.tenantId, options.tenantId) : undefined,
            options.pending ? isNull(t.replayedAt) : undefined,
          ),
        )
        .orderBy(desc(t.id))
        .limit(limit);
      return rows.map(view);
    },
    /** One dead letter and the queue message it holds, to replay it. */
    async get(id: string): Promise<{ letter: MailDeadLetter; message: unknown } | null> {
      const row = await orm.select().from(t).where(eq(t.id, id)).get();
      if (!row) return null;
      const message = storedJson(row.body, `mail dead letter ${row.id} body`);
      return { letter: view(row), message };
    },
    /**
     * Claims up to `limit` pending letters (not replayed, under no live claim; as `filter`
     * narrows), oldest first, for a replay at `now`, with their queue messages: in one UPDATE, so
     * two replays at once claim none of the same letters.
     */
    async claimPending(
      limit: number,
      now: Date,
      filter: PendingFilter = {},
    ): Promise<{ letter: MailDeadLetter; message: unknown }[]> {
      const oldest = orm.select({ id: t.id }).from(t).where(pendingAt(now, filter)).orderBy(t.id).limit(limit);
      const rows = await orm
        .update(t)
        .set({ claimedAt: now.toISOString() })
        .where(and(inArray(t.id, oldest), pendingAt(now, filter)))
        .returning();
      return rows
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((r) => ({ letter: view(r), message: storedJson(r.body, `mail dead letter ${r.id} body`) }));
    },
    /** Whether a letter (as `filter` narrows) is pending at `now`: not replayed, under no live claim. */
    async hasPending(now: Date, filter: PendingFilter = {}): Promise<boolean> {
      const row = await orm.select({ id: t.id }).from(t).where(pendingAt(now, filter)).limit(1).get();
      return row !== undefined;
    },
    /**
     * Forgets a letter the operator will never send: it no longer waits nor is replayed.
     * Returns what it was, for the log line that records the dismissal, or null when
     * there is no such letter.
     */
    async dismiss(id: string): Promise<MailDeadLetter | null> {
      const [row] = await orm.delete(t).where(eq(t.id, id)).returning();
      return row ? view(row) : null;
    },
    /** One tenant's dead letters to the recipient of `digest` (recipient-digest.ts), replayed ones included. */
    async toRecipient(tenantId: string, digest: string): Promise<MailDeadLetter[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(and(eq(t.tenantId, tenantId), eq(t.recipientDigest, digest)))
        .orderBy(t.id);
      return rows.map(view);
    },
    /**
     * Up to `limit` of one tenant's dead letters without a recipient digest (stored before the
     * column, or whose content did not open then), replayed ones included (they keep their
     * message), with their queue messages: to open them and find those addressed to an account
     * being deleted (recipient-dismissal.ts). Those not yet replayed come first, oldest first,
     * then the replayed ones: a replay would still send the former, and the latter, kept until
     * someone dismisses them, can outnumber `limit` and would otherwise hide them.
     */
    async undigested(tenantId: string, limit: number): Promise<{ letter: MailDeadLetter; message: unknown }[]> {
      const rows = await orm
        .select()
        .from(t)
        .where(and(eq(t.tenantId, tenantId), isNull(t.recipientDigest)))
        .orderBy(sql`${t.replayedAt} is not null`, t.id)
        .limit(limit);
      return rows.map((r) => {
        const message = storedJson(r.body, `mail dead letter ${r.id} body`);
        return { letter: view(r), message };
      });
    },

    /** A tenant's letters not yet replayed, each with its body as stored (key rotation: sealed-letters.ts). */
    async unreplayedBodies(tenantId: string): Promise<{ id: string; body: string }[]> {
      return orm
        .select({ id: t.id, body: t.body })
        .from(t)
        .where(and(eq(t.tenantId, tenantId), isNull(t.replayedAt)));
    },

    /** Replaces a letter's body where it still holds `from` and was not replayed meanwhile; whether it did. */
    async replaceBody(id: string, from: string, to: string): Promise<boolean> {
      const done = await orm
        .update(t)
        .set({ body: to })
        .where(and(eq(t.id, id), eq(t.body, from), isNull(t.replayedAt)))
        .returning({ id: t.id });
      return done.length > 0;
    },
  };
}
