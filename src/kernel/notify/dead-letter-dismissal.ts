import type { Context } from "hono";
import type { AppEnv } from "../env";
import { sendRecords } from "../queues/dead-letter-audit";
import { recordDismissal } from "../queues/dismissal";
import { mailDeadLetterStore, mailLetter } from "./dead-letters";

/**
 * Dismisses a mail dead letter the operator will never send (an address that will never
 * accept it, a reset whose token expired long ago): it is deleted, so `?pending=true` and replay-pending
 * stop counting it. It is recorded in the tenant's audit log (`mail.dead_letter.dismissed`, sent
 * before the delete, so a queue that refuses it fails the request with the letter still there)
 * and in the platform's log line, with the fields the consumer's own mail lines carry (mail id,
 * kind, tenant) and never the sealed content or its address.
 */
export async function dismissMailDeadLetter(c: Context<AppEnv>, id: string): Promise<void> {
  const store = mailDeadLetterStore(c.env.DB);
  const found = await store.get(id);
  if (found) await sendRecords(c, "mail.dead_letter.dismissed", [mailLetter(found.letter)]);
  const letter = found && (await store.dismiss(id));
  recordDismissal(c, letter, "mail dead letter", (l) => ({
    event: "mail.dead_letter.dismissed",
    mail_id: l.mail_id,
    mail_kind: l.kind,
  }));
}
