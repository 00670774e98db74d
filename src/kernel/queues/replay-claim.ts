import { z } from "@hono/zod-openapi";
import { and, eq, inArray, isNull, lte, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Context } from "hono";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { deadLetters, mailDeadLetters } from "../db/schema";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { errorFields, type Logger } from "../log";

/**
 * How long a replay's claim on a dead letter lives: a replay claims its letters, sends them,
 * then marks them replayed, in well under a minute. A claim older than this is a replay that
 * died (or could not mark) after the claim, perhaps after the send: its letter is pending
 * again, and may be sent once more, rather than lost.
 */
export const REPLAY_CLAIM_MS = 10 * 60_000;

/** Under no live claim at `now`: never claimed, released, or claimed longer than {@link REPLAY_CLAIM_MS} ago. */
export const unclaimed = (claimedAt: SQLiteColumn, now: Date): SQL | undefined =>
  or(isNull(claimedAt), lte(claimedAt, new Date(now.getTime() - REPLAY_CLAIM_MS).toISOString()));

/**
 * When a letter's replay claim (taken at `claimedAt`) lapses, as the lists show it: null for a
 * letter no replay holds. A time still ahead is a replay under way (or one that died or could
 * not mark it): replaying the letter answers 409 until then. A time past is such a replay's
 * claim run out: the letter is pending again.
 */
export const claimLapsesAt = (claimedAt: string | null): string | null =>
  claimedAt === null ? null : new Date(Date.parse(claimedAt) + REPLAY_CLAIM_MS).toISOString();

/** `replay_claim_lapses_at` of the event and mail dead-letter lists: {@link claimLapsesAt}'s value, as the API describes it. */
export const ReplayClaimLapsesAt = z.string().nullable().openapi({
  description:
    "set while a replay holds a claim on the letter (or held one that ran out): replaying it answers 409 until this time, after which it is pending again; null when no replay holds it",
});

/** The dead-letter tables whose replays claim their letters (each has `id`, `replayed_at`, `claimed_at`). */
export type ClaimedTable = "dead_letters" | "mail_dead_letters";

/** Which letters, as the log and a 409 name them. */
const LETTERS: Record<ClaimedTable, string> = { dead_letters: "event", mail_dead_letters: "mail" };

/** The drizzle tables behind {@link ClaimedTable}. */
const TABLES = { dead_letters: deadLetters, mail_dead_letters: mailDeadLetters } as const;

/**
 * The claim statements of a dead-letter table, one copy for event and mail letters, each within
 * D1's bound parameters: the claim's time and the cleared claim are bound too, the ids the rest.
 */
export function replayClaims(db: D1Database, table: ClaimedTable) {
  const orm = drizzle(db);
  const t = TABLES[table];
  return {
    /**
     * Claims letter `id` for a replay at `now`, replayed or not, unless another replay holds a
     * live claim on it: in one conditional UPDATE, so of two replays at once one claims it.
     * False when it is claimed (or gone).
     */
    async claim(id: string, now: Date): Promise<boolean> {
      const claimed = await orm
        .update(t)
        .set({ claimedAt: now.toISOString() })
        .where(and(eq(t.id, id), unclaimed(t.claimedAt, now)))
        .returning({ id: t.id });
      return claimed.length > 0;
    },
    /**
     * Gives up the claims a replay took at `claimedAt` on letters it did not send (the queue
     * refused them), so they are pending at once rather than after the claim's lifetime.
     */
    async release(ids: readonly string[], claimedAt: Date): Promise<void> {
      for (const run of chunked(ids, D1_MAX_PARAMS - 2)) {
        await orm
          .update(t)
          .set({ claimedAt: null })
          .where(and(inArray(t.id, run), eq(t.claimedAt, claimedAt.toISOString())))
          .run();
      }
    },
    /**
     * Marks letters replayed, their claims (taken at `now`) done: only those the claim still holds,
     * so a letter whose replayed message already failed again and came back as pending (the
     * store takes it back) stays pending rather than said sent. In statements of at most D1's
     * bound parameters (the time, the cleared claim and the claim's time are three): a page of 100
     * letters in one statement would be refused after they were sent, leaving them claimed, to be
     * sent again once the claims lapse.
     */
    async markReplayed(ids: readonly string[], now: Date): Promise<void> {
      const at = now.toISOString();
      for (const run of chunked(ids, D1_MAX_PARAMS - 3)) {
        await orm
          .update(t)
          .set({ replayedAt: at, claimedAt: null })
          .where(and(inArray(t.id, run), eq(t.claimedAt, at)))
          .run();
      }
    },
  };
}

/** A replay route's 409, as its OpenAPI response describes it. */
export const CLAIMED_ELSEWHERE = `\`conflict\`: another replay of the letter is under way, or died (or could not mark it replayed) less than ${REPLAY_CLAIM_MS / 60_000} minutes ago; it is pending again after that`;

/** The 409 of a replay of a letter another replay holds. */
export const claimedElsewhere = (table: ClaimedTable) =>
  new AppError("conflict", {
    detail: `another replay of this ${LETTERS[table]} dead letter is under way (or died, or could not mark it replayed); it is pending again ${REPLAY_CLAIM_MS / 60_000} minutes after that replay began`,
  });

/**
 * Replays letter `id` of `table` at `now` under a claim: claims it (409 while another replay
 * holds it), runs `send` (its audit record and its message), and marks it replayed. A send
 * that fails gives the claim up, so the letter can be replayed at once; a mark that fails
 * keeps it, so no replay sends it again while the claim lives (the request fails, saying the
 * letter went).
 */
export async function replayUnderClaim(
  c: Context<AppEnv>,
  table: ClaimedTable,
  id: string,
  now: Date,
  send: () => Promise<void>,
): Promise<void> {
  const claims = replayClaims(c.env.DB, table);
  if (!(await claims.claim(id, now))) throw claimedElsewhere(table);
  const parts = { db: c.env.DB, log: c.get("log") };
  try {
    await send();
  } catch (error) {
    await released(parts, table, [id], now);
    throw error;
  }
  await marked(parts, table, [id], now);
}

/** Where a replay's claims are kept and its failures to mark or release them logged: a request's, or a job's. */
export interface ClaimParts {
  db: D1Database;
  log: Pick<Logger, "error">;
}

/** Marks letters sent replayed; when D1 refuses, says they went (the caller fails) and they keep their claims. */
export async function marked(parts: ClaimParts, table: ClaimedTable, ids: readonly string[], now: Date) {
  try {
    await replayClaims(parts.db, table).markReplayed(ids, now);
  } catch (error) {
    parts.log.error(
      `${LETTERS[table]} dead letters replayed but not marked; their claims hold them, then they are pending again`,
      {
        letters: ids.length,
        claim_lapses_at: new Date(now.getTime() + REPLAY_CLAIM_MS).toISOString(),
        ...errorFields(error),
      },
    );
    throw error;
  }
}

/** Gives up the claims on letters not sent; when D1 refuses, they wait out the claim's lifetime instead. */
export async function released(parts: ClaimParts, table: ClaimedTable, ids: readonly string[], claimedAt: Date) {
  if (ids.length === 0) return;
  try {
    await replayClaims(parts.db, table).release(ids, claimedAt);
  } catch (error) {
    parts.log.error(`${LETTERS[table]} dead letter claims not given up; pending again when they lapse`, {
      letters: ids.length,
      ...errorFields(error),
    });
  }
}
