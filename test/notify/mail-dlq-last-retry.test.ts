// The mail dead-letter queue has no queue behind it: a message it retries past its last retry
// (max_retries, wrangler.toml) is deleted by Queues, mail and all. A D1 outage longer than those
// retries would so lose every mail that ran out of sends during it. On its last delivery a
// letter that cannot be stored goes back to the mail queue instead, to be sent (the provider may
// be back) or to come back here with its retries anew.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createMailConsumer } from "../../src/kernel/notify/consumer";
import { MAIL_DLQ_MAX_RETRIES } from "../../src/kernel/notify/late-mail";
import { clock, consume, d1Down, messagesOf, recordingQueue, sampleMail, unreadableRegistry } from "./helpers";

describe("a mail dead letter D1 cannot store", () => {
  it("is retried on the dead-letter queue while it has retries left", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const messages = await messagesOf([sampleMail("early@example.com")]);
    const mail = recordingQueue();
    const { result, ids } = await consume(messages, {
      queue: "plinth-mail-dlq",
      attempts: 1,
      env: d1Down({ MAIL: mail.queue }),
    });
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    expect(mail.taken).toEqual([]);
  });

  it("goes back to the mail queue on its last delivery, as it was, instead of being dropped by Queues", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const messages = await messagesOf([sampleMail("last@example.com")]);
    const mail = recordingQueue();
    const { result, ids } = await consume(messages, {
      queue: "plinth-mail-dlq",
      attempts: MAIL_DLQ_MAX_RETRIES + 1,
      env: d1Down({ MAIL: mail.queue }),
    });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(ids);
    expect(mail.taken).toEqual(messages);
    const lines = errors.mock.calls.map((args) => String(args[0])).join("\n");
    expect(lines).toContain("sent back to the mail queue");
    expect(lines).not.toContain("last@example.com");
  });

  it("is retried, and says it will be lost, when the mail queue refuses it too", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const messages = await messagesOf([sampleMail("nowhere@example.com")]);
    const mail = recordingQueue({ refuse: true });
    const { result, ids } = await consume(messages, {
      queue: "plinth-mail-dlq",
      attempts: MAIL_DLQ_MAX_RETRIES + 1,
      env: d1Down({ MAIL: mail.queue }),
    });
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain("nor sent back");
  });
});

describe("a mail dead letter whose tenant registry cannot be read (D1 down under it)", () => {
  it("goes back to the mail queue on its last delivery; an early one is retried", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const [last, early] = await messagesOf([sampleMail("reg-last@example.com"), sampleMail("reg-early@example.com")]);
    const mail = recordingQueue();
    const batch = createMessageBatch("plinth-mail-dlq", [
      { id: "reg-last", timestamp: new Date(), attempts: MAIL_DLQ_MAX_RETRIES + 1, body: last },
      { id: "reg-early", timestamp: new Date(), attempts: 1, body: early },
    ]);
    const ctx = createExecutionContext();
    const consumer = createMailConsumer({ modules: [unreadableRegistry], needs: KERNEL_NEEDS, clock });
    await consumer(batch, { ...env, MAIL: mail.queue }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["reg-last"]);
    expect(result.retryMessages).toEqual([{ msgId: "reg-early" }]);
    expect(mail.taken).toEqual([last]);
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain("sent back to the mail queue");
  });
});

describe("a mail dead letter under an invalid config (a variable broken by a deploy)", () => {
  // What a deploy could set: the binding's type knows only the values wrangler.toml holds.
  const broken = (MAIL: Queue): Env => Object.assign(Object.create(null), env, { LOG_LEVEL: "chatty", MAIL });

  it("goes back to the mail queue on its last delivery; the rest of the batch waits for the fix", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const [last, early] = await messagesOf([sampleMail("cfg-last@example.com"), sampleMail("cfg-early@example.com")]);
    const mail = recordingQueue();
    const lastRun = await consume([last], {
      queue: "plinth-mail-dlq",
      attempts: MAIL_DLQ_MAX_RETRIES + 1,
      env: broken(mail.queue),
    });
    expect(lastRun.result.explicitAcks).toEqual(lastRun.ids);
    expect(lastRun.result.retryBatch.retry).toBe(false);
    expect(mail.taken).toEqual([last]);
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain("sent back to the mail queue");

    const earlyRun = await consume([early], { queue: "plinth-mail-dlq", attempts: 1, env: broken(mail.queue) });
    expect(earlyRun.result.explicitAcks).toEqual([]);
    expect(earlyRun.result.retryBatch.retry).toBe(true);
    expect(mail.taken).toEqual([last]);
  });

  it("in a batch of both, sends back only the last delivery and retries the other on its own", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const [last, early] = await messagesOf([sampleMail("mix-last@example.com"), sampleMail("mix-early@example.com")]);
    const mail = recordingQueue();
    const batch = createMessageBatch("plinth-mail-dlq", [
      { id: "mix-last", timestamp: new Date(), attempts: MAIL_DLQ_MAX_RETRIES + 1, body: last },
      { id: "mix-early", timestamp: new Date(), attempts: 1, body: early },
    ]);
    const ctx = createExecutionContext();
    await createMailConsumer({ modules: [], needs: KERNEL_NEEDS, clock })(batch, broken(mail.queue), ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["mix-last"]);
    expect(result.retryMessages).toEqual([{ msgId: "mix-early" }]);
    expect(result.retryBatch.retry).toBe(false);
    expect(mail.taken).toEqual([last]);
  });
});
