import { countVersions, NO_RESEAL, type ResealOutcome, type VersionCounts } from "../crypto/key-versions";
import { resealStale } from "../crypto/reseal";
import { storedJson } from "../db/stored-json";
import type { ModuleRuntime, SealedFields } from "../modules/types";
import { mailDeadLetterStore } from "./dead-letters";
import { MailMessageSchema, mailEnvelope, mailField } from "./message";

/**
 * Mail dead letters as key rotation sees them (docs/crypto.md, "Envelope encryption"): a
 * letter keeps its mail's content sealed under the `ENCRYPTION_KEYS` version it was queued
 * with, for as long as it waits for the operator's replay (days, when a provider was down).
 * Counted and re-sealed like the modules' sealed fields, so `plinth crypto versions` does not
 * call a version removable while a letter still needs it. Letters already replayed are not:
 * their message went back to the mail queue, and a failure there stores it again, pending.
 */
const KIND = "mail.dead_letter";

/** The tenant's letters not yet replayed whose content is sealed: the row, its body as stored, and the ciphertext. */
async function sealedLetters(db: D1Database, tenantId: string) {
  const rows = await mailDeadLetterStore(db).unreplayedBodies(tenantId);
  return rows.flatMap((r) => {
    const raw = storedJson(r.body, `mail dead letter ${r.id} body`);
    const parsed = MailMessageSchema.safeParse(raw);
    if (!parsed.success || !("sealed" in parsed.data.content)) return [];
    return [{ id: r.id, body: r.body, raw, field: mailField(parsed.data.id), sealed: parsed.data.content.sealed }];
  });
}

export const mailLettersSealed: SealedFields = {
  kinds: [KIND],
  async versions(tenantId: string, runtime: ModuleRuntime): Promise<VersionCounts> {
    const letters = await sealedLetters(runtime.env.DB, tenantId);
    return countVersions(
      letters.map((l) => ({ kind: KIND, sealed: l.sealed })),
      [KIND],
    );
  },
  async reencrypt(tenantId: string, runtime: ModuleRuntime): Promise<ResealOutcome> {
    const keys = runtime.config.encryptionKeys;
    if (!keys) return NO_RESEAL;
    const letters = await sealedLetters(runtime.env.DB, tenantId);
    const reseals = await resealStale(mailEnvelope(keys), tenantId, letters);
    const store = mailDeadLetterStore(runtime.env.DB);
    let resealed = 0;
    for (const r of reseals) {
      // The body as stored, only its content replaced (the schema would drop a field it does not know).
      const raw = r.raw as Record<string, unknown>;
      const body = JSON.stringify({ ...raw, content: { sealed: r.to } });
      if (await store.replaceBody(r.id, r.body, body)) resealed++;
    }
    return { resealed, raced: reseals.length - resealed };
  },
};
