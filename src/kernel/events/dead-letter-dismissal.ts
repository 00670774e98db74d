import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
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
  if (!letter) throw new AppError("not_found", { detail: "no such dead letter" });
  const principal = c.get("principal");
  c.get("log").info("dead letter dismissed", {
    event: "events.dead_letter.dismissed",
    dead_letter_id: letter.id,
    message_id: letter.message_id,
    event_id: stringField(letter.event, "id"),
    event_type: letter.event_type,
    tenant_id: letter.tenant_id,
    reason: letter.reason,
    replayed_at: letter.replayed_at,
    by: principal ? `${principal.kind}:${principal.id}` : undefined,
  });
}
