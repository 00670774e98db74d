import type { Context } from "hono";
import type { AppEnv } from "../env";
import { sendRecords } from "../queues/dead-letter-audit";
import { recordDismissal } from "../queues/dismissal";
import { stringField } from "../queues/message-fields";
import { deadLetterStore, eventLetter } from "./dead-letters";

/**
 * Dismisses a dead letter (the operator's any, a tenant admin's their tenant's): it is
 * deleted, so it stops waiting in the lists and the hourly report. Nothing else keeps it, so
 * it is recorded twice: in the tenant's audit log (`events.dead_letter.dismissed`, for the
 * tenant's admins and auditors), and in the platform's log line (who dismissed which letter,
 * and what event it held). The audit event is sent before the letter is deleted: if the queue
 * refuses it the request fails with the letter still there, so no dismissal goes unrecorded
 * (if the delete then fails, the log holds a dismissal that a retry completes).
 * 404 for a letter that does not exist (or is another tenant's: the same answer, so a
 * tenant learns nothing of others' ids).
 */
export async function dismissDeadLetter(c: Context<AppEnv>, id: string, tenantId?: string): Promise<void> {
  const store = deadLetterStore(c.env.DB);
  const found = await store.find(id, tenantId);
  if (found) await sendRecords(c, "events.dead_letter.dismissed", [eventLetter(found)]);
  const letter = found && (await store.dismiss(id, tenantId));
  recordDismissal(c, letter, "dead letter", (l) => ({
    event: "events.dead_letter.dismissed",
    event_id: stringField(l.event, "id"),
    event_type: l.event_type,
  }));
}
