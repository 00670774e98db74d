// A mail dead letter is stored once per mail, not once per queue message: a D1 insert that commits
// but answers an error (or a consumer that dies before the ack) has the message delivered again,
// and a letter sent back to the mail queue on its last delivery (D1 down) comes back under a new
// message id. Keyed by message id, the store kept two letters of one mail, and `replay-pending`
// sent it twice (docs/notifications.md, "Retries, dead letters, replay").
import { describe, expect, it, vi } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { consume, messagesOf, sampleMail } from "./helpers";

/** A MAIL producer that keeps the mail ids it is sent. */
function mailQueue() {
  const taken: string[] = [];
  const queue = {
    send: async (body: { id: string }) => void taken.push(body.id),
    sendBatch: async (messages: readonly MessageSendRequest<{ id: string }>[]) =>
      void taken.push(...messages.map((m) => m.body.id)),
  } as unknown as Queue;
  return { queue, taken };
}

/** The operator's caller on a platform whose MAIL producer is `queue`. */
const operator = (queue: Queue) => callerOf(testApp(modules, { MAIL: queue }).fetch);

/** The tenant's mail dead letters as the operator lists them (`pending`: not replayed yet). */
async function lettersOf(tenantId: string, pending = false) {
  const res = await operator(mailQueue().queue)(
    `/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}${pending ? "&pending=true" : ""}`,
    { token: rootKey() },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as { id: string; message_id: string; mail_id: string; replayed_at: string | null }[];
}

/** `replay-pending` for the tenant, as the CLI calls it; the mail ids it sent. */
async function replayPending(tenantId: string): Promise<string[]> {
  const mail = mailQueue();
  const res = await operator(mail.queue)("/api/v1/platform/mail/replay-dead-letters", {
    token: rootKey(),
    body: { tenant_id: tenantId },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return mail.taken;
}

describe("a mail reaching the dead-letter queue more than once", () => {
  it("under two message ids (a send-back) is one letter, and replay-pending sends it once", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("mail-ident");
    const [message] = await messagesOf([sampleMail("twice@example.com", t.id)]);
    await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
    await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
    vi.restoreAllMocks();

    expect((await lettersOf(t.id)).map((l) => l.mail_id)).toEqual([message?.id]);
    expect(await replayPending(t.id)).toEqual([message?.id]);
  });

  it("after its letter was replayed, waits again when it comes back under a new message id, still as one letter", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("mail-ident");
    const [message] = await messagesOf([sampleMail("again@example.com", t.id)]);
    const first = await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
    expect(await replayPending(t.id)).toEqual([message?.id]);
    expect(await lettersOf(t.id, true)).toEqual([]);

    // The replayed mail failed again, all its retries: the letter waits again, for another replay.
    const second = await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
    vi.restoreAllMocks();
    expect(second.ids).not.toEqual(first.ids);
    const waiting = await lettersOf(t.id, true);
    expect(waiting.map((l) => [l.mail_id, l.message_id, l.replayed_at])).toEqual([[message?.id, second.ids[0], null]]);
    expect(await lettersOf(t.id)).toHaveLength(1);
    expect(await replayPending(t.id)).toEqual([message?.id]);
  });
});
