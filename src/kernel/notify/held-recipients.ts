import type { Config } from "../config";
import { stringField } from "../queues/message-fields";
import { contentOf, type MailMessage, MailMessageSchema, type SealedContent } from "./message";
import { recipientDigest } from "./recipient-digest";
import { heldKey, mailSuppressionStore } from "./suppressions";

/** A message of the batch opened before any is sent: the mail, its content, and whether its recipient was deleted. */
export interface OpenedMail {
  mail: MailMessage;
  content: SealedContent;
  /** Its recipient's account was deleted since it was queued (D1 `mail_suppressions`): not to be sent. */
  held: boolean;
}

/**
 * Opens each mail of a batch about to be sent and finds, in one D1 read for the whole batch, those
 * whose recipient digest a deletion holds (suppressions.ts): mail queued before an account's
 * deletion and retried while the provider was down would otherwise reach the person who asked to be
 * gone once it recovers. Keyed by message; a message that is not a mail, or whose content does not
 * open, is left out: it has no digest to match, and the consumer dead-letters it as before (the
 * store cannot match it either, so it stays for the operator). Without a digest key nothing is
 * held and nothing is read. Throws when D1 does not answer: the caller retries the batch rather
 * than send what it could not check.
 */
export async function openHeld(
  messages: readonly Message<unknown>[],
  config: Config,
  db: D1Database,
  now: Date,
): Promise<Map<Message<unknown>, OpenedMail>> {
  const opened = new Map<Message<unknown>, OpenedMail & { digest: string | null }>();
  for (const message of messages) {
    const parsed = MailMessageSchema.safeParse(message.body);
    if (!parsed.success) continue;
    const content = await contentOf(parsed.data, config.encryptionKeys).catch(() => null);
    if (!content) continue;
    const digest = recipientDigest(config.ipHashKey, parsed.data.tenant_id, content.to);
    opened.set(message, { mail: parsed.data, content, digest, held: false });
  }
  const recipients = [...opened.values()].flatMap((o) =>
    o.digest ? [{ tenantId: o.mail.tenant_id, digest: o.digest }] : [],
  );
  const held = await mailSuppressionStore(db).heldAmong(recipients, now.toISOString());
  for (const o of opened.values()) o.held = o.digest !== null && held.has(heldKey(o.mail.tenant_id, o.digest));
  return opened;
}

/** The log fields of a mail dropped for its deleted recipient: the mail, never the address. */
export const droppedFields = (body: unknown, reason?: string) => ({
  mail_id: stringField(body, "id"),
  mail_kind: stringField(body, "kind"),
  tenant_id: stringField(body, "tenant_id"),
  ...(reason ? { reason } : {}),
  cause: "recipient_deleted",
});
