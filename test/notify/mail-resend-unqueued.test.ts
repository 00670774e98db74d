// The minute's job `tenants/resend-unqueued-mail`: a request's mail kept because the MAIL queue
// would not take it (kernel/notify/unqueued.ts) goes back to the queue on its own once the queue
// answers, for an hour after it was kept; nothing else of the mail dead letters is touched.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";
import { UNQUEUED_RESEND_MS } from "../../src/kernel/notify/resend-unqueued";
import { UNQUEUED } from "../../src/kernel/notify/unqueued";
import { resendUnqueuedMail } from "../../src/modules/tenants/resend-mail-job";
import { testRuntime } from "../helpers";

/** A producer that keeps what it takes, or refuses every send while `down` says so. */
function producer(down = () => false) {
  const taken: unknown[] = [];
  const refuse = () => {
    if (down()) throw new Error("Queue send failed: Service Unavailable");
  };
  const queue = {
    send: async (body: unknown) => {
      refuse();
      taken.push(body);
    },
    sendBatch: async (messages: readonly MessageSendRequest<unknown>[]) => {
      refuse();
      for (const m of messages) taken.push(m.body);
    },
  } as unknown as Queue;
  return { queue, taken };
}

let seq = 0;
/** A letter of tenant `tenantId` from `queue`, stored at `at`; its mail id. */
async function letter(tenantId: string, queue: string, at: Date): Promise<string> {
  const mailId = `mail-resend-${++seq}`;
  const body = { v: 1, id: mailId, tenant_id: tenantId, kind: "identity.password-reset", content: { sealed: "v1.x" } };
  const message = { id: `${queue}:${mailId}`, attempts: 3, body };
  await mailDeadLetterStore(env.DB).store(queue, message, "not queued: Queue send failed: 503", at);
  return mailId;
}

/** The job's run at `now`, over the given producers. */
function runAt(now: Date, mail: Queue, events: Queue) {
  const runtime = testRuntime(manualClock(now.toISOString()));
  return resendUnqueuedMail.run({
    ...runtime,
    env: { ...env, MAIL: mail, EVENTS: events },
    scheduledTime: now.getTime(),
    lastSuccess: null,
    attempt: 1,
  });
}

const pendingIds = async (tenantId: string) => {
  const items = await mailDeadLetterStore(env.DB).list(100, { tenantId, pending: true });
  return items.map((l) => l.mail_id).sort();
};

describe("resending the mail the queue would not take", () => {
  // Far from every other file's letters, which the platform-wide job would otherwise see.
  const now = new Date("2031-03-01T10:00:00.000Z");
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

  it("sends the letters kept in the last hour once, records each as the job's, and leaves every other letter", async () => {
    const tenantId = `t-resend-${crypto.randomUUID()}`;
    const recent = await letter(tenantId, UNQUEUED, minutesAgo(5));
    const old = await letter(tenantId, UNQUEUED, new Date(now.getTime() - UNQUEUED_RESEND_MS - 60_000));
    const givenUp = await letter(tenantId, "plinth-mail-dlq", minutesAgo(5));
    const mail = producer();
    const events = producer();

    expect(await runAt(now, mail.queue, events.queue)).toEqual({ resent: 1, more: false });
    expect(mail.taken).toMatchObject([{ id: recent, tenant_id: tenantId }]);
    expect(events.taken).toMatchObject([
      {
        type: "mail.dead_letter.replayed",
        tenant_id: tenantId,
        // The job's origin (kernel/events/origin.ts, systemOrigin): no request, at the run's clock.
        actor: { kind: "system", id: "tenants/resend-unqueued-mail" },
        request_id: null,
        ip_hash: null,
        occurred_at: now.toISOString(),
        data: { mail_id: recent, mail_kind: "identity.password-reset" },
      },
    ]);
    // Past the hour, and what the consumer gave up on, are the operator's.
    expect(await pendingIds(tenantId)).toEqual([old, givenUp].sort());

    // A second run, a minute on, sends nothing again.
    const later = new Date(now.getTime() + 60_000);
    expect(await runAt(later, mail.queue, events.queue)).toEqual({ resent: 0, more: false });
    expect(mail.taken).toHaveLength(1);
  });

  it("while the queue still refuses, fails and keeps the letter pending; the next run once it answers sends it", async () => {
    const tenantId = `t-resend-${crypto.randomUUID()}`;
    const at = new Date(now.getTime() + 10 * 60_000);
    const kept = await letter(tenantId, UNQUEUED, new Date(at.getTime() - 60_000));
    let down = true;
    const mail = producer(() => down);
    vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(runAt(at, mail.queue, producer().queue)).rejects.toThrow("Queue send failed");
    vi.restoreAllMocks();
    // Its claim given up at once: pending for the next minute, not for the claim's ten.
    expect(await pendingIds(tenantId)).toEqual([kept]);

    down = false;
    const next = new Date(at.getTime() + 60_000);
    expect(await runAt(next, mail.queue, producer().queue)).toEqual({ resent: 1, more: false });
    expect(mail.taken).toMatchObject([{ id: kept }]);
    expect(await pendingIds(tenantId)).toEqual([]);
  });

  it("finds its letters through the queue index, not a walk of every letter", async () => {
    // The store's exact statement and parameters, as D1 is given them, asked of SQLite's planner.
    const reads: { sql: string; params: unknown[] }[] = [];
    const DB = new Proxy(env.DB, {
      get(target, name) {
        if (name === "prepare")
          return (sql: string) => {
            const statement = target.prepare(sql);
            return new Proxy(statement, {
              get(s, key) {
                if (key === "bind")
                  return (...params: unknown[]) => {
                    reads.push({ sql, params });
                    return s.bind(...params);
                  };
                const value = Reflect.get(s, key);
                return typeof value === "function" ? value.bind(s) : value;
              },
            });
          };
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const at = new Date(now.getTime() + 30 * 60_000);
    await mailDeadLetterStore(DB).hasPending(at, { queue: UNQUEUED, receivedSince: minutesAgo(60) });
    const [read, ...more] = reads;
    if (!read) throw new Error("no statement");
    expect(more).toEqual([]);
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${read.sql}`)
      .bind(...read.params)
      .all<{ detail: string }>();
    expect(results.map((r) => r.detail).join("\n")).toMatch(/USING INDEX mail_dead_letters_queue_received/);
  });
});
