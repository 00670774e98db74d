import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { deadLetterEvent } from "../queues/dead-letter-audit";
import { replayUnderClaim } from "../queues/replay-claim";
import { deadLetterStore, eventLetter } from "./dead-letters";

/**
 * Sends a dead letter's event to the events queue again (the operator's any, a tenant admin's
 * their tenant's; 404 for one that does not exist or is another tenant's) and marks it replayed.
 * The event recording the replay in the tenant's audit log goes in the same `sendBatch`, which
 * the queue takes whole or not at all: there is no replay without its record, nor a record of a
 * replay the queue refused. The consumer drops the events of a deleted tenant, so a late replay
 * writes nothing back.
 *
 * Under a claim (queues/replay-claim.ts), as a mail letter's: a mark that fails (D1, for a
 * moment) leaves the letter claimed, so a second replay is a 409 rather than the event and its
 * audit record sent again (a webhook endpoint drops an event id it still holds in its log, not
 * one it pruned); two replays at once send it once. A claim lapses after `REPLAY_CLAIM_MS`.
 */
export async function replayDeadLetter(c: Context<AppEnv>, id: string, tenantId?: string): Promise<void> {
  const letter = await deadLetterStore(c.env.DB).find(id, tenantId);
  if (!letter) throw new AppError("not_found", { detail: "no such dead letter" });
  await replayUnderClaim(c, "dead_letters", letter.id, c.get("clock").now(), async () => {
    const record = deadLetterEvent(c, "events.dead_letter.replayed", eventLetter(letter));
    await c.env.EVENTS.sendBatch(
      [letter.event, ...(record ? [record] : [])].map((body) => ({ body, contentType: "json" as const })),
    );
  });
}
