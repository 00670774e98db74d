import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/kernel/env";
import { createLogger } from "../../src/kernel/log";
import { isolateRecorder } from "../../src/kernel/metrics/recorder";
import { MAIL_ENQUEUE_RETRY, MailTooLarge } from "../../src/kernel/notify/enqueue";
import { contentOf, MailMessageSchema } from "../../src/kernel/notify/message";
import { type Mail, notifierOf } from "../../src/kernel/notify/notifier";
import { recipientDigest } from "../../src/kernel/notify/recipient-digest";
import { mailSuppressionStore } from "../../src/kernel/notify/suppressions";
import { UNQUEUED } from "../../src/kernel/notify/unqueued";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { d1Down, sampleMail, testConfig } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** A MAIL queue whose `send` fails as `fail` says for each call (1-based), else keeps the message. */
function flakyQueue(fail: (call: number, body: unknown) => Error | undefined) {
  const sent: unknown[] = [];
  let calls = 0;
  const fake = {
    async send(body: unknown) {
      calls++;
      const error = fail(calls, body);
      if (error) throw error;
      sent.push(body);
    },
    async sendBatch() {},
  };
  return { sent, calls: () => calls, queue: fake as unknown as Queue };
}

/**
 * Sends `mail` as a route does (`notifierOf(c)`), on a queue of `queue` and a manual time moved
 * past the retry budget; the outcome, the log lines and what the mail-lost metric counted.
 */
async function sendFromRequest(queue: Queue, mail: Mail, base: Env = env) {
  const time = manualTime("2026-07-01T08:00:00.000Z");
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", {}, (_level, line) => void lines.push(JSON.parse(line)));
  const counted = vi.spyOn(isolateRecorder, "inc");
  // Hono's default handler prints the error a 500 answers; the log lines are what is checked.
  vi.spyOn(console, "error").mockImplementation(() => {});
  const app = new Hono<AppEnv>();
  app.post("/send", async (c) => {
    c.set("config", testConfig());
    c.set("clock", time.clock);
    c.set("sleeper", time.sleeper);
    c.set("log", log);
    await notifierOf(c).send(mail);
    return c.body(null, 204);
  });
  const answer = app.request("/send", { method: "POST" }, { ...base, MAIL: queue });
  await time.advance(MAIL_ENQUEUE_RETRY.budgetMs + 1_000);
  const res = await answer;
  const named = (name: string) => counted.mock.calls.filter(([def]) => def.name === name).map(([, labels]) => labels);
  const outcome = {
    notQueued: named("plinth_mail_enqueue_failed_total"),
    deadLetters: named("plinth_dead_letters_total"),
  };
  // A second send in the same test counts afresh.
  counted.mockRestore();
  return {
    status: res.status,
    lines,
    ...outcome,
    pending: time.pending(),
  };
}

/** The mail dead letters of mail `mailId` as D1 holds them. */
async function lettersOf(mailId: string) {
  const { results } = await env.DB.prepare(
    "select queue, message_id, reason, attempts, body, recipient_digest, replayed_at from mail_dead_letters where mail_id = ?",
  )
    .bind(mailId)
    .all<{
      queue: string;
      message_id: string;
      reason: string;
      attempts: number;
      body: string;
      recipient_digest: string | null;
      replayed_at: string | null;
    }>();
  return results;
}

const transient = () => new Error("Queue send failed: Service Unavailable");

describe("a request's mail when the MAIL queue fails", () => {
  it("is queued exactly once when the queue fails once and then takes it", async () => {
    const q = flakyQueue((call) => (call === 1 ? transient() : undefined));
    const seen = await sendFromRequest(q.queue, sampleMail("once@example.com"));
    expect(seen.status).toBe(204);
    expect(q.calls()).toBe(2);
    expect(q.sent).toHaveLength(1);
    expect(q.sent[0]).toMatchObject({ kind: "identity.verify-email", tenant_id: "t-mail" });
    expect(seen.notQueued).toEqual([]);
    expect(seen.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("is tried the bounded number of times, then kept as a pending mail dead letter, logged without its content and counted", async () => {
    const q = flakyQueue(() => transient());
    const mail = sampleMail("kept@example.com", "t-kept", "mail-kept-1");
    const seen = await sendFromRequest(q.queue, mail);
    // Kept, the mail is not lost: the request goes on as if it was queued.
    expect(seen.status).toBe(204);
    expect(q.calls()).toBe(MAIL_ENQUEUE_RETRY.maxAttempts);
    expect(q.sent).toEqual([]);
    expect(seen.pending).toBe(0);
    const errors = seen.lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: "mail not queued",
      mail_id: "mail-kept-1",
      mail_kind: "identity.verify-email",
      tenant_id: "t-kept",
      attempts: MAIL_ENQUEUE_RETRY.maxAttempts,
      outcome: "kept",
      error_message: "Queue send failed: Service Unavailable",
    });
    const text = JSON.stringify(seen.lines);
    expect(text).not.toContain("kept@example.com");
    expect(text).not.toContain(mail.subject);
    expect(text).not.toContain("secret0123456789");
    expect(seen.notQueued).toEqual([["identity.verify-email", "kept"]]);
    expect(seen.deadLetters).toEqual([["mail", "identity.verify-email"]]);

    const [letter, ...more] = await lettersOf("mail-kept-1");
    expect(more).toEqual([]);
    expect(letter).toMatchObject({
      queue: UNQUEUED,
      message_id: `${UNQUEUED}:mail-kept-1`,
      reason: "not queued: Queue send failed: Service Unavailable",
      attempts: MAIL_ENQUEUE_RETRY.maxAttempts,
      replayed_at: null,
      // Found again by the recipient's digest when their account is deleted.
      recipient_digest: recipientDigest(testConfig().ipHashKey, "t-kept", "kept@example.com"),
    });
    // The message a replay sends is the one the queue would have had: sealed, and it opens to the mail.
    expect(letter?.body).not.toContain("kept@example.com");
    const message = MailMessageSchema.parse(JSON.parse(letter?.body ?? ""));
    expect(message).toMatchObject({ id: "mail-kept-1", kind: "identity.verify-email", tenant_id: "t-kept" });
    const content = await contentOf(message, testConfig().encryptionKeys);
    expect(content).toMatchObject({ to: "kept@example.com", subject: mail.subject, text: mail.text });
  });

  it("gives up an attempt the queue does not answer, and keeps the mail: a hung send holds the request no longer than its timeout", async () => {
    let calls = 0;
    const hung = {
      send: () => {
        calls++;
        return new Promise<void>(() => {});
      },
      sendBatch: async () => {},
    } as unknown as Queue;
    const seen = await sendFromRequest(hung, sampleMail("hung@example.com", "t-kept", "mail-hung-1"));
    expect(seen.status).toBe(204);
    // The first attempt's timeout spends the budget: no second attempt begins past it.
    expect(calls).toBe(1);
    expect(seen.pending).toBe(0);
    expect(seen.notQueued).toEqual([["identity.verify-email", "kept"]]);
    expect(await lettersOf("mail-hung-1")).toMatchObject([
      { reason: `not queued: timed out after ${MAIL_ENQUEUE_RETRY.attemptTimeoutMs} ms`, attempts: 1 },
    ]);
  });

  it("is kept once: the same mail not queued again is a duplicate, counted as a dead letter once", async () => {
    const mail = sampleMail("twice@example.com", "t-kept", "mail-kept-twice");
    const first = await sendFromRequest(flakyQueue(() => transient()).queue, mail);
    const second = await sendFromRequest(flakyQueue(() => transient()).queue, mail);
    expect([first.status, second.status]).toEqual([204, 204]);
    expect(await lettersOf("mail-kept-twice")).toHaveLength(1);
    expect([...first.deadLetters, ...second.deadLetters]).toEqual([["mail", "identity.verify-email"]]);
    expect(second.notQueued).toEqual([["identity.verify-email", "kept"]]);
  });

  it("is dropped, not kept, when its recipient's account was deleted meanwhile (a replay would mail them)", async () => {
    const digest = recipientDigest(testConfig().ipHashKey, "t-kept", "gone@example.com");
    if (!digest) throw new Error("the test env has no IP hash key");
    await mailSuppressionStore(env.DB).hold("t-kept", digest, "2099-01-01T00:00:00.000Z");
    const seen = await sendFromRequest(
      flakyQueue(() => transient()).queue,
      sampleMail("gone@example.com", "t-kept", "mail-dropped-1"),
    );
    expect(seen.status).toBe(204);
    expect(await lettersOf("mail-dropped-1")).toEqual([]);
    expect(seen.notQueued).toEqual([["identity.verify-email", "dropped"]]);
    expect(seen.deadLetters).toEqual([]);
  });

  it("is lost, thrown and said so, when D1 will not keep it either", async () => {
    const q = flakyQueue(() => transient());
    const seen = await sendFromRequest(q.queue, sampleMail("lost@example.com", "t-lost", "mail-lost-1"), d1Down());
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(MAIL_ENQUEUE_RETRY.maxAttempts);
    const errors = seen.lines.filter((l) => l.level === "error");
    expect(errors).toMatchObject([
      {
        msg: "mail not kept as a dead letter",
        mail_id: "mail-lost-1",
        error_message: "D1_ERROR: database unavailable",
      },
      { msg: "mail not queued", mail_id: "mail-lost-1", outcome: "lost" },
    ]);
    expect(JSON.stringify(seen.lines)).not.toContain("lost@example.com");
    expect(seen.notQueued).toEqual([["identity.verify-email", "lost"]]);
    expect(seen.deadLetters).toEqual([]);
  });

  it("is not retried when the schema refuses it (a bad kind): the caller's bug, thrown at once", async () => {
    const q = flakyQueue(() => undefined);
    const seen = await sendFromRequest(q.queue, { ...sampleMail("bad@example.com"), kind: "Not A Kind!" });
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(0);
    expect(seen.pending).toBe(0);
    expect(seen.notQueued).toEqual([]);
  });

  it("is not sent to the queue, nor retried, when it is larger than the queue takes; logged and counted", async () => {
    // The queue would refuse it every time, as Queues refuses a message over its limit.
    const q = flakyQueue((_call, body) =>
      JSON.stringify(body).length > 128_000 ? new Error("Queue send failed: message too large") : undefined,
    );
    const big = "x".repeat(60_000);
    const mail = { ...sampleMail("big@example.com", "t-big", "mail-big-1"), text: big, html: big };
    const seen = await sendFromRequest(q.queue, mail);
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(0);
    const errors = seen.lines.filter((l) => l.level === "error");
    expect(errors).toMatchObject([
      { msg: "mail not queued", error_name: new MailTooLarge(0).name, attempts: 1, outcome: "lost" },
    ]);
    // Not kept either: a replay could never queue it.
    expect(await lettersOf("mail-big-1")).toEqual([]);
    expect(seen.notQueued).toEqual([["identity.verify-email", "lost"]]);
  });

  it("is not retried when workerd refuses the send as a bad argument (a TypeError); logged and counted", async () => {
    const q = flakyQueue(() => new TypeError("Unsupported queue message content type: yaml"));
    const seen = await sendFromRequest(q.queue, sampleMail("typed@example.com", "t-mail", "mail-typed-1"));
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(1);
    expect(seen.lines.filter((l) => l.level === "error")).toMatchObject([
      { msg: "mail not queued", attempts: 1, outcome: "lost" },
    ]);
    expect(await lettersOf("mail-typed-1")).toEqual([]);
    expect(seen.notQueued).toEqual([["identity.verify-email", "lost"]]);
  });
});
