import { z } from "zod";
import { wasmAead } from "../crypto/aead";
import { Envelope, parseMasterKeys, type TenantSeeds } from "../crypto/envelope";
import { SealedKinds } from "../crypto/sealed-kinds";
import type { MailContent } from "./template";

/** A mail's id: the queue message's key, the dev mailbox row's id, and the provider's idempotency key. */
export const MailIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 of A-Z a-z 0-9 . _ : -");

/** What the queue holds of a mail's content: `to`, subject and both parts (they carry secrets: tokens). */
const ContentSchema = z.object({
  to: z.string().min(3).max(320),
  subject: z.string().max(400),
  text: z.string().max(60_000),
  html: z.string().max(60_000),
});
export type SealedContent = z.infer<typeof ContentSchema>;

/**
 * A message on the mail queue (version 1). Only what the consumer, the logs
 * and the operator's dead-letter view need is in the clear: the mail's id,
 * tenant, kind and time. The content — recipient, subject, parts, and the
 * secret tokens in them — is `sealed` with XChaCha20-Poly1305 under a key
 * derived from ENCRYPTION_KEYS and bound to the tenant and the mail's id
 * (see {@link mailEnvelope}); `plain` only where ENCRYPTION_KEYS is unset
 * (development without it; `/readyz` reports it in staging and production).
 */
export const MailMessageSchema = z.object({
  v: z.literal(1),
  id: MailIdSchema,
  tenant_id: z.string().min(1).max(64),
  kind: z.string().regex(/^[a-z0-9._-]{1,64}$/),
  created_at: z.string().max(40),
  content: z.union([
    z.object({ sealed: z.string().max(200_000) }).strict(),
    z.object({ plain: ContentSchema }).strict(),
  ]),
});
export type MailMessage = z.infer<typeof MailMessageSchema>;

// The data key of mail is HKDF(master key, salt = this, info = tenant and version): the same
// master keys as tenant secrets, another salt than any tenant's random seed, so other keys.
// Not a tenant seed: mail must still open after a tenant's key material is destroyed.
const MAIL_SALT = new TextEncoder().encode("plinth mail salt v1");
const mailSeeds: TenantSeeds = { seed: async () => MAIL_SALT };

/**
 * The kind of field the kernel seals mail content as: the one kind the mail envelope seals
 * (kernel/crypto/sealed-kinds.ts). Its stored values, the dead letters, are counted and re-sealed
 * as `mail.dead_letter` (sealed-letters.ts); those on the queue cannot be reached.
 */
export const MAIL_SEALED_KIND = "mail";
const MAIL_KINDS = new SealedKinds([MAIL_SEALED_KIND]);

/** The envelope field a mail's content is sealed under: bound to the mail, so a ciphertext moved to another message does not open. */
export const mailField = (mailId: string) => `${MAIL_SEALED_KIND}/${mailId}`;

/**
 * The envelope that seals mail content on the queue: master keys from
 * ENCRYPTION_KEYS (so they rotate with them), XChaCha20-Poly1305 from the
 * WASM core. Throws when the secret is malformed (never with key material).
 */
export function mailEnvelope(encryptionKeys: string): Envelope {
  return new Envelope(wasmAead, parseMasterKeys(encryptionKeys), mailSeeds, MAIL_KINDS);
}

/** The queue message for a mail: its content sealed when `envelope` is given. */
export async function toMessage(
  mail: { id: string; tenantId: string; kind: string; createdAt: string } & MailContent & { to: string },
  envelope: Envelope | undefined,
): Promise<MailMessage> {
  const content: SealedContent = { to: mail.to, subject: mail.subject, text: mail.text, html: mail.html };
  return {
    v: 1,
    id: mail.id,
    tenant_id: mail.tenantId,
    kind: mail.kind,
    created_at: mail.createdAt,
    content: envelope
      ? { sealed: await envelope.encrypt(mail.tenantId, mailField(mail.id), JSON.stringify(content)) }
      : { plain: content },
  };
}

/** Thrown when a message's content cannot be read: no key for it, altered, or not a mail. Retrying cannot fix it. */
export class UnreadableMail extends Error {
  override name = "UnreadableMail";
}

/** A message's content, opened when sealed. */
export async function contentOf(message: MailMessage, encryptionKeys: string | undefined): Promise<SealedContent> {
  if ("plain" in message.content) return message.content.plain;
  if (!encryptionKeys) throw new UnreadableMail("the content is sealed and ENCRYPTION_KEYS is unset");
  let json: unknown;
  try {
    const text = await mailEnvelope(encryptionKeys).decryptText(
      message.tenant_id,
      mailField(message.id),
      message.content.sealed,
    );
    json = JSON.parse(text);
  } catch {
    // The cause may name a key version; it never holds content.
    throw new UnreadableMail(
      "the sealed content does not open (its key version left ENCRYPTION_KEYS, or it was altered)",
    );
  }
  const parsed = ContentSchema.safeParse(json);
  if (!parsed.success) throw new UnreadableMail("the sealed content is not a mail");
  return parsed.data;
}
