import { env } from "cloudflare:workers";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";

/**
 * Stores `n` mail dead letters of tenant `tenantId` (a verification mail each, ids starting with
 * `prefix`), as the mail dead-letter consumer does: their letter ids and the mail ids they hold.
 */
export async function storeMailLetters(prefix: string, tenantId: string, n: number) {
  const store = mailDeadLetterStore(env.DB);
  const mailIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${tenantId}-${i}`;
    const message = {
      id: `msg-${id}`,
      attempts: 31,
      body: { v: 1, id, tenant_id: tenantId, kind: "identity.verify-email" },
    } as unknown as Message<unknown>;
    await store.store("plinth-mail-dlq", message, "retries exhausted", new Date());
    mailIds.push(id);
  }
  const ids = (await store.list(100, { tenantId })).map((l) => l.id);
  return { ids, mailIds };
}
