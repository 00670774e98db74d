import type { Context } from "hono";
import type { AppEnv } from "../env";
import { recordDismissal } from "../queues/dismissal";
import { mailDeadLetterStore } from "./dead-letters";

/**
 * Dismisses a mail dead letter the operator will never send (an address that will never
 * accept it, a reset whose token expired long ago): it is deleted, so `?pending=true` and replay-pending
 * stop counting it. The log line is the record, with the fields the consumer's own mail
 * lines carry (mail id, kind, tenant) and never the sealed content or its address.
 */
export async function dismissMailDeadLetter(c: Context<AppEnv>, id: string): Promise<void> {
  const letter = await mailDeadLetterStore(c.env.DB).dismiss(id);
  recordDismissal(c, letter, "mail dead letter", (l) => ({
    event: "mail.dead_letter.dismissed",
    mail_id: l.mail_id,
    mail_kind: l.kind,
  }));
}
