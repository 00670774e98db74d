// A request's mail the MAIL queue will not take, through its retries, is kept as a mail dead
// letter (kernel/notify/unqueued.ts) rather than lost: the request that stored the token answers
// as if it was queued, and the operator's replay, once the queue is back, delivers the mail whose
// token still works.
import { describe, expect, it, vi } from "vitest";
import { MAIL_ENQUEUE_RETRY } from "../../src/kernel/notify/enqueue";
import { UNQUEUED } from "../../src/kernel/notify/unqueued";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, callerOf, mailTo, newTenant, rootKey, tokenIn } from "../identity/helpers";

/** A MAIL producer that refuses every message, as Queues does while it is down; counts the tries. */
function downQueue() {
  let tries = 0;
  const queue = {
    send: async () => {
      tries++;
      throw new Error("Queue send failed: Service Unavailable");
    },
    sendBatch: async () => {
      tries++;
      throw new Error("Queue send failed: Service Unavailable");
    },
  } as unknown as Queue;
  return { queue, tries: () => tries };
}

interface Letter {
  id: string;
  queue: string;
  mail_id: string;
  kind: string;
  reason: string;
  attempts: number;
  replayed_at: string | null;
}

const pendingOf = async (tenantId: string) => {
  const res = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}&pending=true`, {
    token: rootKey(),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as Letter[];
};

describe("a request's mail while the MAIL queue is down", () => {
  it("an invitation answers 201, its mail waits as a pending dead letter, and the replay delivers a token that works", async () => {
    const t = await newTenant("unqueued");
    const down = downQueue();
    // Hono's default handler would print a 500's error: none is expected, and the log is not what is checked.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const invited = await callerOf(testApp(modules, { MAIL: down.queue }).fetch)("/api/v1/admin/invitations", {
      token: t.adminKey,
      body: { email: "while.down@example.com", roles: ["viewer"] },
    });
    vi.restoreAllMocks();
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    expect(down.tries()).toBe(MAIL_ENQUEUE_RETRY.maxAttempts);

    const letters = await pendingOf(t.id);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      queue: UNQUEUED,
      kind: "identity.invitation",
      attempts: MAIL_ENQUEUE_RETRY.maxAttempts,
      reason: "not queued: Queue send failed: Service Unavailable",
      replayed_at: null,
    });
    // The operator's list never shows the content; the letter holds it sealed, not the address in clear.
    expect(JSON.stringify(letters)).not.toContain("while.down@example.com");

    // The queue is back: the operator's replay-pending sends it, and the consumer delivers it.
    const replay = await call("/api/v1/platform/mail/replay-dead-letters", {
      token: rootKey(),
      body: { tenant_id: t.id },
    });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.body).toEqual({ replayed: 1, more: false });
    const mail = await mailTo(t.slug, "while.down@example.com", "You are invited");
    const accepted = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token: tokenIn(mail), password: "a brand new passphrase 42", name: "Patient" },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(await pendingOf(t.id)).toEqual([]);
  });

  it("a reset's mail kept while the queue was down goes out with the minute's job, no operator needed", async () => {
    const t = await newTenant("unqueued");
    await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "patient@example.com", password: "correct horse battery staple", name: "Patient" },
    });
    const down = downQueue();
    const app = testApp(modules, { MAIL: down.queue });
    // The `mail not queued` line goes to the console; the letter is what is checked.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const asked = await callerOf(app.fetch)("/api/v1/auth/password-reset", {
      tenant: t.slug,
      body: { email: "patient@example.com" },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    // Queued after the response: wait for the letter.
    const deadline = Date.now() + 10_000;
    while ((await pendingOf(t.id)).length === 0 && Date.now() < deadline) await scheduler.wait(50);
    vi.restoreAllMocks();
    expect(await pendingOf(t.id)).toMatchObject([{ queue: UNQUEUED, kind: "identity.password-reset" }]);

    // The queue is back; the job (run by hand here, each minute deployed) sends it.
    const run = await call("/api/v1/platform/jobs/tenants/resend-unqueued-mail/run", { token: rootKey(), body: {} });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const mail = await mailTo(t.slug, "patient@example.com", "Reset");
    expect(tokenIn(mail)).toMatch(/^plp_/);
    expect(await pendingOf(t.id)).toEqual([]);
  });
});
