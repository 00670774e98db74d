import { and, gt, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { mailSuppressions } from "../db/schema";

/** How {@link mailSuppressionStore}'s `heldAmong` names a held recipient: tenant and digest. */
export const heldKey = (tenantId: string, digest: string) => `${tenantId}\u0000${digest}`;

/**
 * The recipients of deleted accounts that mail may not become a dead letter to (D1
 * `mail_suppressions`, by recipient digest, never the address). A deletion dismisses the letters
 * to its address that are stored; mail still on the queue then (retried for up to a day) can fail
 * into the store after it, and an operator's replay would mail the person who asked to be gone.
 * So the deletion first records the digest here until the queue's longest life has passed
 * (late-mail.ts), and the store refuses a letter to it in the statement that would store it
 * (dead-letters.ts): a letter that failed before the record is dismissed by the deletion, one
 * after it is never stored, so none is ever replayable. The mail consumer also looks its batch up
 * here before sending (held-recipients.ts): mail still on the queue is not sent to them either.
 * docs/notifications.md.
 */
export function mailSuppressionStore(db: D1Database) {
  const orm = drizzle(db);
  const t = mailSuppressions;
  return {
    /** Refuses dead letters of tenant `tenantId` to the recipient of `digest` until `until` (ISO); a later `until` wins. */
    async hold(tenantId: string, digest: string, until: string): Promise<void> {
      await orm
        .insert(t)
        .values({ tenantId, digest, until })
        .onConflictDoUpdate({ target: [t.tenantId, t.digest], set: { until: sql`max(${t.until}, excluded.until)` } });
    },
    /**
     * Which of `recipients` are held at `now` (ISO), as {@link heldKey}s: one statement for them all
     * (the pairs travel as one JSON parameter, so a batch of any size stays within D1's 100 bound
     * parameters), each found by the table's primary key.
     */
    async heldAmong(recipients: readonly { tenantId: string; digest: string }[], now: string): Promise<Set<string>> {
      if (recipients.length === 0) return new Set();
      const pairs = JSON.stringify(recipients.map((r) => [r.tenantId, r.digest]));
      const rows = await orm
        .select({ tenantId: t.tenantId, digest: t.digest })
        .from(t)
        .where(
          and(
            gt(t.until, now),
            sql`(${t.tenantId}, ${t.digest}) in (select json_extract(value, '$[0]'), json_extract(value, '$[1]') from json_each(${pairs}))`,
          ),
        );
      return new Set(rows.map((r) => heldKey(r.tenantId, r.digest)));
    },
    /** Forgets every digest whose time has passed at `now` (ISO): how many. */
    async forgetEnded(now: string): Promise<number> {
      const gone = await orm.delete(t).where(lte(t.until, now)).returning({ digest: t.digest });
      return gone.length;
    },
  };
}
