import type { Context } from "hono";
import type { AppEnv } from "../env";
import { recordDismissal } from "../queues/dismissal";
import { stringField } from "../queues/message-fields";
import { deadLetterStore } from "./dead-letters";

/**
 * Dismisses a dead letter (the operator's any, a tenant admin's their tenant's): it is
 * deleted, so it stops waiting in the lists and the hourly report. Nothing else keeps it,
 * so the log line is the record: who dismissed which letter, and what event it held.
 * 404 for a letter that does not exist (or is another tenant's: the same answer, so a
 * tenant learns nothing of others' ids).
 */
export async function dismissDeadLetter(c: Context<AppEnv>, id: string, tenantId?: string): Promise<void> {
  const letter = await deadLetterStore(c.env.DB).dismiss(id, tenantId);
  recordDismissal(c, letter, "dead letter", (l) => ({
    event: "events.dead_letter.dismissed",
    event_id: stringField(l.event, "id"),
    event_type: l.event_type,
  }));
}
