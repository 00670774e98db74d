import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { errorFields } from "../log";
import { sendRecords } from "../queues/dead-letter-audit";
import { mailDeadLetterStore, mailLetter, REPLAY_CLAIM_MS } from "./dead-letters";

export { REPLAY_CLAIM_MS };

type Store = ReturnType<typeof mailDeadLetterStore>;

/**
 * Replays one mail dead letter (any, replayed or not): its message goes back on `MAIL` as it
 * was, with its mail id. Claimed first, then recorded in the tenant's audit log, sent, and marked
 * replayed: a mark that fails (D1, for a moment) leaves the claim, so neither another replay nor
 * `replay-pending` sends it again while the claim lives ({@link REPLAY_CLAIM_MS}); after that the
 * letter is pending again and may be sent once more, a replay that died mid-way being
 * indistinguishable from one that died before its send. 404 for no such letter, 409 while
 * another replay holds it.
 */
export async function replayMailDeadLetter(c: Context<AppEnv>, id: string): Promise<void> {
  const store = mailDeadLetterStore(c.env.DB);
  const now = c.get("clock").now();
  if (!(await store.get(id))) throw new AppError("not_found", { detail: "no such mail dead letter" });
  const claimed = await store.claim(id, now);
  if (!claimed) {
    throw new AppError("conflict", {
      detail: `another replay of this mail dead letter is under way (or died, or could not mark it replayed); it is pending again ${REPLAY_CLAIM_MS / 60_000} minutes after that replay began`,
    });
  }
  try {
    // The tenant's audit record goes first: a replay is never left unrecorded.
    await sendRecords(c, "mail.dead_letter.replayed", [mailLetter(claimed.letter)]);
    await c.env.MAIL.send(claimed.message, { contentType: "json" });
  } catch (error) {
    await release(c, store, [id], now);
    throw error;
  }
  await marked(c, store, [id], now);
}

/**
 * Replays up to `limit` pending mail dead letters (of `tenantId`), oldest first, claimed in one
 * statement, so two calls at once send none twice. Each group the queue took is marked replayed
 * at once; when a later group is refused (the request then fails) the claims of the letters not
 * sent are given up, so the next call sends only those. A group sent but not marked keeps its
 * claim, as {@link replayMailDeadLetter}'s letter does. `more`: whether letters are still pending.
 */
export async function replayPendingMail(
  c: Context<AppEnv>,
  limit: number,
  tenantId: string | undefined,
): Promise<{ replayed: number; more: boolean }> {
  const store = mailDeadLetterStore(c.env.DB);
  const now = c.get("clock").now();
  const chosen = await store.claimPending(limit, now, tenantId);
  let unsent = chosen;
  try {
    await sendRecords(
      c,
      "mail.dead_letter.replayed",
      chosen.map((l) => mailLetter(l.letter)),
    );
    for (const group of sendable(chosen)) {
      await c.env.MAIL.sendBatch(group.map((l) => ({ body: l.message, contentType: "json" })));
      unsent = unsent.slice(group.length);
      await marked(
        c,
        store,
        group.map((l) => l.letter.id),
        now,
      );
    }
  } catch (error) {
    await release(
      c,
      store,
      unsent.map((l) => l.letter.id),
      now,
    );
    throw error;
  }
  return { replayed: chosen.length, more: await store.hasPending(now, tenantId) };
}

/** Marks letters sent replayed; when D1 refuses, says they went (the request fails) and keep their claims. */
async function marked(c: Context<AppEnv>, store: Store, ids: readonly string[], now: Date): Promise<void> {
  try {
    await store.markReplayed(ids, now);
  } catch (error) {
    c.get("log").error(
      "mail dead letters replayed but not marked; their claims hold them, then they are pending again",
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
async function release(c: Context<AppEnv>, store: Store, ids: readonly string[], claimedAt: Date): Promise<void> {
  if (ids.length === 0) return;
  try {
    await store.release(ids, claimedAt);
  } catch (error) {
    c.get("log").error("mail dead letter claims not given up; pending again when they lapse", {
      letters: ids.length,
      ...errorFields(error),
    });
  }
}

/** Queues takes at most 100 messages and 256 KB per sendBatch: groups of letters whose messages stay under both. */
function sendable<L extends { message: unknown }>(letters: readonly L[]): L[][] {
  const groups: L[][] = [];
  let group: L[] = [];
  let bytes = 0;
  for (const letter of letters) {
    const size = JSON.stringify(letter.message).length + 100;
    if (group.length > 0 && (group.length === 100 || bytes + size > 200_000)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(letter);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
