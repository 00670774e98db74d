import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import type { Logger } from "../log";
import { type LetterActor, requestActor, sendRecords, sendRecordsBy } from "../queues/dead-letter-audit";
import { marked, REPLAY_CLAIM_MS, released, replayUnderClaim } from "../queues/replay-claim";
import { mailDeadLetterStore, mailLetter, type PendingFilter } from "./dead-letters";

export { REPLAY_CLAIM_MS };

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
  const found = await mailDeadLetterStore(c.env.DB).get(id);
  if (!found) throw new AppError("not_found", { detail: "no such mail dead letter" });
  await replayUnderClaim(c, "mail_dead_letters", id, c.get("clock").now(), async () => {
    // The tenant's audit record goes first: a replay is never left unrecorded.
    await sendRecords(c, "mail.dead_letter.replayed", [mailLetter(found.letter)]);
    await c.env.MAIL.send(found.message, { contentType: "json" });
  });
}

/** What a replay of pending letters needs: the bindings, the log, who replays (null: no record) and when. */
export interface ReplayParts {
  env: Pick<Env, "DB" | "MAIL" | "EVENTS">;
  log: Pick<Logger, "error">;
  by: LetterActor | null;
  now: Date;
}

/**
 * Replays up to `limit` pending mail dead letters (of `tenantId`), oldest first, claimed in one
 * statement, so two calls at once send none twice. Each group the queue took is marked replayed
 * at once; when a later group is refused (the request then fails) the claims of the letters not
 * sent are given up, so the next call sends only those. A group sent but not marked keeps its
 * claim, as {@link replayMailDeadLetter}'s letter does. `more`: whether letters are still pending.
 */
export function replayPendingMail(
  c: Context<AppEnv>,
  limit: number,
  tenantId: string | undefined,
): Promise<{ replayed: number; more: boolean }> {
  const parts = { env: c.env, log: c.get("log"), by: requestActor(c), now: c.get("clock").now() };
  return replayPending(parts, limit, tenantId === undefined ? {} : { tenantId });
}

/** {@link replayPendingMail} for whoever `parts` names, of the letters `filter` narrows to (a job's too). */
export async function replayPending(
  parts: ReplayParts,
  limit: number,
  filter: PendingFilter,
): Promise<{ replayed: number; more: boolean }> {
  const { env, by, now } = parts;
  const store = mailDeadLetterStore(env.DB);
  const chosen = await store.claimPending(limit, now, filter);
  const claims = { db: env.DB, log: parts.log };
  let unsent = chosen;
  try {
    if (by)
      await sendRecordsBy(
        env.EVENTS,
        by,
        "mail.dead_letter.replayed",
        chosen.map((l) => mailLetter(l.letter)),
      );
    for (const group of sendable(chosen)) {
      await env.MAIL.sendBatch(group.map((l) => ({ body: l.message, contentType: "json" })));
      unsent = unsent.slice(group.length);
      await marked(
        claims,
        "mail_dead_letters",
        group.map((l) => l.letter.id),
        now,
      );
    }
  } catch (error) {
    await released(
      claims,
      "mail_dead_letters",
      unsent.map((l) => l.letter.id),
      now,
    );
    throw error;
  }
  return { replayed: chosen.length, more: await store.hasPending(now, filter) };
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
