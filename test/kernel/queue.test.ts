import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createQueueHandler, purgeProcessedEvents, retryDelaySeconds } from "../../src/kernel/events/queue";
import { createScheduledHandler } from "../../src/kernel/jobs/scheduled";
import type { EventMessage, ModuleDef } from "../../src/kernel/modules/types";

const event = (id: string, type = "notes.note.created"): EventMessage => ({ id, type, tenant_id: "t1", data: {} });

function recordingModule(fail: Set<string>): { def: ModuleDef; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    def: {
      name: "notes",
      version: "1.0.0",
      events: {
        subscribes: {
          "notes.note.created": async (e) => {
            if (fail.has(e.id)) throw new Error(`cannot handle ${e.id}`);
            seen.push(e.id);
          },
        },
      },
    },
  };
}

describe("queue consumer", () => {
  afterEach(() => vi.restoreAllMocks());

  it("routes events to subscribers and acks or retries each message on its own", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { def, seen } = recordingModule(new Set(["e2"]));
    const batch = createMessageBatch("plinth-events", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: event("e1") },
      { id: "m2", timestamp: new Date(), attempts: 3, body: event("e2") },
      { id: "m3", timestamp: new Date(), attempts: 1, body: event("e3", "other.thing.happened") },
    ]);
    // The test pool's queue result drops delaySeconds, so watch the call itself.
    const failing = batch.messages[1];
    if (!failing) throw new Error("batch lost a message");
    const retry = vi.spyOn(failing, "retry");
    const ctx = createExecutionContext();
    await createQueueHandler([def])(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(seen).toEqual(["e1"]);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m3"]);
    expect(result.retryMessages).toEqual([{ msgId: "m2" }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(3) });
  });

  it("stores a malformed message as a dead letter at once instead of dropping it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const batch = createMessageBatch("plinth-events", [
      { id: "bad-1", timestamp: new Date(), attempts: 1, body: { type: "x.y.z" } },
    ]);
    const ctx = createExecutionContext();
    await createQueueHandler([])(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["bad-1"]);
    const row = await env.DB.prepare("select * from dead_letters where message_id = ?").bind("bad-1").first();
    expect(row).toMatchObject({ queue: "plinth-events", event_type: "x.y.z", attempts: 1 });
    expect(JSON.parse(String(row?.body))).toEqual({ reason: "malformed event", body: { type: "x.y.z" } });
  });

  it("stores dead-letter-queue messages in D1 once, even when delivered twice", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const handler = createQueueHandler([]);
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("plinth-events-dlq", [
        { id: "dead-1", timestamp: new Date(), attempts: 6, body: event("e9") },
      ]);
      const ctx = createExecutionContext();
      await handler(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
    }
    const { results } = await env.DB.prepare("select * from dead_letters where message_id = 'dead-1'").all();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ event_type: "notes.note.created", tenant_id: "t1", attempts: 6 });
  });

  it("backs off exponentially up to 5 minutes", () => {
    expect([1, 2, 3, 4, 5, 12].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 32, 300]);
  });
});

describe("scheduled jobs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs the jobs of the cron that fired, and fails the run when one fails", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const ran: string[] = [];
    const def: ModuleDef = {
      name: "jobs",
      version: "1.0.0",
      jobs: [
        { name: "every-5", cron: "*/5 * * * *", run: async () => void ran.push("every-5") },
        { name: "hourly", cron: "0 * * * *", run: async () => void ran.push("hourly") },
        {
          name: "hourly-broken",
          cron: "0 * * * *",
          run: async () => {
            throw new Error("broken");
          },
        },
      ],
    };
    const handler = createScheduledHandler([def]);
    await handler(createScheduledController({ cron: "*/5 * * * *" }), env, createExecutionContext());
    expect(ran).toEqual(["every-5"]);
    await expect(
      handler(createScheduledController({ cron: "0 * * * *" }), env, createExecutionContext()),
    ).rejects.toThrow("1 of 2 jobs failed");
    expect(ran).toEqual(["every-5", "hourly"]);
  });
});

describe("wildcard subscriptions", () => {
  it('a "*" subscriber receives every event type, after the type\'s own subscribers, once per event', async () => {
    const order: string[] = [];
    const own: ModuleDef = {
      name: "notes",
      version: "1.0.0",
      events: { subscribes: { "notes.note.created": async (e) => void order.push(`notes:${e.id}`) } },
    };
    const all: ModuleDef = {
      name: "mirror",
      version: "1.0.0",
      events: { subscribes: { "*": async (e) => void order.push(`mirror:${e.id}`) } },
    };
    const handler = createQueueHandler([all, own]);
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `w-${i}-1`, timestamp: new Date(), attempts: 1, body: event("wild-1") },
        { id: `w-${i}-2`, timestamp: new Date(), attempts: 1, body: event("wild-2", "other.thing.happened") },
      ]);
      await handler(batch, env, createExecutionContext());
    }
    expect(order).toEqual(["notes:wild-1", "mirror:wild-1", "mirror:wild-2"]);
  });
});

describe("consumer idempotency", () => {
  it("a redelivered event is not handled twice by the same subscriber", async () => {
    const { def, seen } = recordingModule(new Set());
    const handler = createQueueHandler([def]);
    for (let i = 0; i < 3; i++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `dup-${i}`, timestamp: new Date(), attempts: 1, body: event("same-event-id") },
      ]);
      const ctx = createExecutionContext();
      await handler(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`dup-${i}`]);
    }
    expect(seen).toEqual(["same-event-id"]);
    const row = await env.DB.prepare("select consumer from processed_events where event_id = 'same-event-id'").first();
    expect(row).toEqual({ consumer: "notes" });
  });

  it('keeps a module\'s typed and "*" subscriptions apart: both handle the same event once', async () => {
    const order: string[] = [];
    const both: ModuleDef = {
      name: "twice",
      version: "1.0.0",
      events: {
        subscribes: {
          "notes.note.created": async (e) => void order.push(`typed:${e.id}`),
          "*": async (e) => void order.push(`all:${e.id}`),
        },
      },
    };
    const handler = createQueueHandler([both]);
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `both-${i}`, timestamp: new Date(), attempts: 1, body: event("both-event") },
      ]);
      await handler(batch, env, createExecutionContext());
    }
    expect(order).toEqual(["typed:both-event", "all:both-event"]);
  });

  it("forgets processed ids only once no redelivery can arrive (15 days)", async () => {
    const now = new Date("2026-06-30T12:00:00.000Z");
    const at = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    for (const [id, days] of [
      ["old-16d", 16],
      ["edge-14d", 14],
      ["fresh-1h", 1 / 24],
    ] as const) {
      await env.DB.prepare(
        "insert into processed_events (consumer, event_id, processed_at) values ('purge-test', ?, ?)",
      )
        .bind(id, at(days))
        .run();
    }
    expect(await purgeProcessedEvents(env, now)).toBeGreaterThanOrEqual(1);
    const { results } = await env.DB.prepare(
      "select event_id from processed_events where consumer = 'purge-test' order by event_id",
    ).all<{ event_id: string }>();
    expect(results.map((r) => r.event_id)).toEqual(["edge-14d", "fresh-1h"]);
  });
});
