import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/kernel/env";
import { createLogger } from "../../src/kernel/log";
import { isolateRecorder } from "../../src/kernel/metrics/recorder";
import { MAIL_ENQUEUE_RETRY, MailTooLarge } from "../../src/kernel/notify/enqueue";
import { type Mail, notifierOf } from "../../src/kernel/notify/notifier";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { sampleMail, testConfig } from "./helpers";

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
async function sendFromRequest(queue: Queue, mail: Mail) {
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
  const answer = app.request("/send", { method: "POST" }, { ...env, MAIL: queue });
  await time.advance(MAIL_ENQUEUE_RETRY.budgetMs + 1_000);
  const res = await answer;
  const lost = counted.mock.calls.filter(([def]) => def.name === "plinth_mail_enqueue_failed_total");
  return { status: res.status, lines, lost, pending: time.pending() };
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
    expect(seen.lost).toEqual([]);
    expect(seen.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("is tried the bounded number of times, then logged at error without its content and counted", async () => {
    const q = flakyQueue(() => transient());
    const mail = sampleMail("lost@example.com", "t-lost", "mail-lost-1");
    const seen = await sendFromRequest(q.queue, mail);
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(MAIL_ENQUEUE_RETRY.maxAttempts);
    expect(q.sent).toEqual([]);
    expect(seen.pending).toBe(0);
    const errors = seen.lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: "mail not queued",
      mail_id: "mail-lost-1",
      mail_kind: "identity.verify-email",
      tenant_id: "t-lost",
      attempts: MAIL_ENQUEUE_RETRY.maxAttempts,
      error_message: "Queue send failed: Service Unavailable",
    });
    const text = JSON.stringify(seen.lines);
    expect(text).not.toContain("lost@example.com");
    expect(text).not.toContain(mail.subject);
    expect(text).not.toContain("secret0123456789");
    expect(seen.lost.map(([, labels]) => labels)).toEqual([["identity.verify-email"]]);
  });

  it("is not retried when the schema refuses it (a bad kind): the caller's bug, thrown at once", async () => {
    const q = flakyQueue(() => undefined);
    const seen = await sendFromRequest(q.queue, { ...sampleMail("bad@example.com"), kind: "Not A Kind!" });
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(0);
    expect(seen.pending).toBe(0);
    expect(seen.lost).toEqual([]);
  });

  it("is not sent to the queue, nor retried, when it is larger than the queue takes; logged and counted", async () => {
    // The queue would refuse it every time, as Queues refuses a message over its limit.
    const q = flakyQueue((_call, body) =>
      JSON.stringify(body).length > 128_000 ? new Error("Queue send failed: message too large") : undefined,
    );
    const big = "x".repeat(60_000);
    const seen = await sendFromRequest(q.queue, { ...sampleMail("big@example.com", "t-big"), text: big, html: big });
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(0);
    const errors = seen.lines.filter((l) => l.level === "error");
    expect(errors).toMatchObject([{ msg: "mail not queued", error_name: new MailTooLarge(0).name, attempts: 1 }]);
    expect(seen.lost.map(([, labels]) => labels)).toEqual([["identity.verify-email"]]);
  });

  it("is not retried when workerd refuses the send as a bad argument (a TypeError); logged and counted", async () => {
    const q = flakyQueue(() => new TypeError("Unsupported queue message content type: yaml"));
    const seen = await sendFromRequest(q.queue, sampleMail("typed@example.com"));
    expect(seen.status).toBe(500);
    expect(q.calls()).toBe(1);
    expect(seen.lines.filter((l) => l.level === "error")).toMatchObject([{ msg: "mail not queued", attempts: 1 }]);
    expect(seen.lost).toHaveLength(1);
  });
});
