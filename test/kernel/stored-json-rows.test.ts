// A stored row whose JSON column is corrupt: reading it fails naming the row, and the error quotes
// none of the column's text (V8's own SyntaxError does, and errors reach the logs).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deadLetterStore } from "../../src/kernel/events/dead-letters";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";
import { storeMailLetters } from "../notify/mail-letters";
import { eventLetterOf } from "./dead-letter-fixtures";

// Starts with the secret, so V8's message would quote it: `Unexpected token 'S', "SECRET-mail…"`.
const CORRUPT = 'SECRET-mail-body", "to": "someone@example.com"}';

async function rejection(p: Promise<unknown>): Promise<Error> {
  const error: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, got ${String(error)}`);
  return error;
}

describe("corrupt JSON columns", () => {
  it("a mail dead letter's body: get, claim and the undigested scan name the letter, not its text", async () => {
    const tenantId = `t-${crypto.randomUUID()}`;
    const { ids } = await storeMailLetters("corrupt", tenantId, 1);
    const [id] = ids;
    if (!id) throw new Error("no letter stored");
    await env.DB.prepare("update mail_dead_letters set body = ?, recipient_digest = null where id = ?")
      .bind(CORRUPT, id)
      .run();
    try {
      const store = mailDeadLetterStore(env.DB);
      for (const read of [
        store.get(id),
        store.undigested(tenantId, 10),
        store.claimPending(10, new Date(), { tenantId }),
      ]) {
        const error = await rejection(read);
        expect(error.message).not.toContain("SECRET");
        expect(error.message).toBe(`mail dead letter ${id} body is not valid JSON`);
      }
    } finally {
      // The files after this one share the database: a platform-wide list would meet the corrupt row.
      await env.DB.prepare("delete from mail_dead_letters where id = ?").bind(id).run();
    }
  });

  it("an event dead letter's body: find names the letter, not its text", async () => {
    const tenantId = `t-${crypto.randomUUID()}`;
    const { id } = await eventLetterOf(tenantId, "corrupt");
    await env.DB.prepare("update dead_letters set body = ? where id = ?").bind(CORRUPT, id).run();
    try {
      const error = await rejection(deadLetterStore(env.DB).find(id));
      expect(error.message).not.toContain("SECRET");
      expect(error.message).toBe(`dead letter ${id} body is not valid JSON`);
    } finally {
      // As above: `GET /platform/events/dead-letters` in a later file would answer 500 on it.
      await env.DB.prepare("delete from dead_letters where id = ?").bind(id).run();
    }
  });
});
