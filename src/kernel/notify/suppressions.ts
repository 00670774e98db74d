import { lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { mailSuppressions } from "../db/schema";

/**
 * The recipients of deleted accounts that mail may not become a dead letter to (D1
 * `mail_suppressions`, by recipient digest, never the address). A deletion dismisses the letters
 * to its address that are stored; mail still on the queue then (retried for up to a day) can fail
 * into the store after it, and an operator's replay would mail the person who asked to be gone.
 * So the deletion first records the digest here until the queue's longest life has passed
 * (late-mail.ts), and the store refuses a letter to it in the statement that would store it
 * (dead-letters.ts): a letter that failed before the record is dismissed by the deletion, one
 * after it is never stored, so none is ever replayable. docs/notifications.md.
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
    /** Forgets every digest whose time has passed at `now` (ISO): how many. */
    async forgetEnded(now: string): Promise<number> {
      const gone = await orm.delete(t).where(lte(t.until, now)).returning({ digest: t.digest });
      return gone.length;
    },
  };
}
