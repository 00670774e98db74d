import type { Context } from "hono";
import type { AppEnv } from "../env";
import { sendRecords } from "../queues/dead-letter-audit";
import { recordDismissal } from "../queues/dismissal";
import { type MailDeadLetter, mailDeadLetterStore, mailLetter } from "./dead-letters";
import { contentOf, MailMessageSchema } from "./message";

/**
 * How many of a tenant's mail dead letters one deletion looks through. Letters are the
 * operator's backlog of a provider outage, dismissed or replayed within days: far fewer than
 * this for one tenant. Past it the rest stay, as the operator's to dismiss.
 */
export const RECIPIENT_SCAN_LIMIT = 1_000;

/**
 * Dismisses tenant `tenantId`'s mail dead letters addressed to `to` (compared without case):
 * an account being deleted must not be mailed by a later replay, and its address must not wait
 * in the operator's store. Each letter's sealed content is opened to read its recipient (the
 * address is never in the clear); one that does not open is left for the operator. Recorded as
 * the operator's own dismissal is (`mail.dead_letter.dismissed` in the tenant's audit log, by the
 * request's principal, then the log line), so the letter's end is on record. Returns how many.
 *
 * @example
 * await dismissMailTo(c, tenant.id, "ada@example.com"); // 1
 */
export async function dismissMailTo(c: Context<AppEnv>, tenantId: string, to: string): Promise<number> {
  const store = mailDeadLetterStore(c.env.DB);
  const address = to.toLowerCase();
  const addressed: MailDeadLetter[] = [];
  for (const { letter, message } of await store.ofTenant(tenantId, RECIPIENT_SCAN_LIMIT)) {
    const mail = MailMessageSchema.safeParse(message);
    if (!mail.success) continue;
    const content = await contentOf(mail.data, c.get("config").encryptionKeys).catch(() => null);
    if (content?.to.toLowerCase() === address) addressed.push(letter);
  }
  if (addressed.length === 0) return 0;
  await sendRecords(c, "mail.dead_letter.dismissed", addressed.map(mailLetter));
  for (const letter of addressed) {
    const dismissed = await store.dismiss(letter.id);
    // Gone since the scan (the operator dismissed it meanwhile): nothing left to do.
    if (dismissed)
      recordDismissal(c, dismissed, "mail dead letter", (l) => ({
        event: "mail.dead_letter.dismissed",
        mail_id: l.mail_id,
        mail_kind: l.kind,
        cause: "recipient_deleted",
      }));
  }
  return addressed.length;
}
