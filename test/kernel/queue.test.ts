import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { processedLedger } from "../../src/kernel/events/ledger";
import { createQueueHandler, retryDelaySeconds } from "../../src/kernel/events/queue";
import { subscribe, subscribeAll } from "../../src/kernel/events/subscribe";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { readModels } from "../../src/kernel/read-models";
import { Notes, recordingModule } from "./notes-module";

// The files a test worker runs share one D1 (vitest.config.ts), and a dead letter is kept once per event, or per body
// when it has no id: this file's tenant and malformed bodies are its own, so another file's
// letter of the same event or bytes is never the one these tests look up.
const run = crypto.randomUUID().slice(0, 8);
const TENANT = `t-queue-${run}`;

/** An envelope as writers send it; `data` as given. */
const event = (id: string, type = "notes.note.created", data: Record<string, unknown> = { title: "t" }) => ({
  id,
  type,
  tenant_id: TENANT,
  stream: `${TENANT}/note/n1`,
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data,
});

const clock = manualClock("2026-06-30T12:00:00.000Z");
/** The queue consumer of a platform made of `modules`. */
const consumer = (modules: ModuleDef[]) => createQueueHandler({ modules, needs: KERNEL_NEEDS, clock });

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
    await consumer([def])(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(seen).toEqual(["e1"]);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m3"]);
    expect(result.retryMessages).toEqual([{ msgId: "m2" }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(3) });
  });

  it("names the subscription that threw on each failed delivery's log line, so an operator finds what to fix", async () => {
    // A dead letter says only that its retries ran out; these lines are where its cause is
    // (docs/operations.md, "Queues and dead letters"). Without `subscriber` the operator had
    // to guess from the stack which of the event's subscriptions failed.
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { def } = recordingModule(new Set(["e-fails"]));
    const batch = createMessageBatch("plinth-events", [
      { id: "m-fails", timestamp: new Date(), attempts: 2, body: event("e-fails") },
    ]);
    const ctx = createExecutionContext();
    await consumer([def])(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const lines = errors.mock.calls.map(([line]) => {
      try {
        return JSON.parse(String(line)) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
    expect(lines.find((l) => l.msg === "message failed; will retry")).toMatchObject({
      event_id: "e-fails",
      subscriber: "notes:record",
      error_message: "cannot handle e-fails",
    });
  });

  it("stores a malformed envelope as a dead letter after one delivery instead of retrying it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const malformed = { type: "x.y.z", test: `bad-${run}` };
    const batch = createMessageBatch("plinth-events", [
      { id: "bad-1", timestamp: new Date(), attempts: 1, body: malformed },
    ]);
    const ctx = createExecutionContext();
    await consumer([])(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["bad-1"]);
    expect(result.retryMessages).toEqual([]);
    const row = await env.DB.prepare("select * from dead_letters where message_id = ?").bind("bad-1").first();
    expect(row).toMatchObject({ queue: "plinth-events", event_type: "x.y.z", attempts: 1 });
    expect(JSON.parse(String(row?.body))).toEqual({ reason: "malformed event envelope", body: malformed });
  });

  it("stores an event whose data its publisher's schema refuses as a dead letter after one delivery", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { def, seen } = recordingModule(new Set());
    const body = event("bad-data", "notes.note.created", { title: 42 });
    const batch = createMessageBatch("plinth-events", [{ id: "bad-2", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await consumer([def])(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["bad-2"]);
    expect(result.retryMessages).toEqual([]);
    expect(seen).toEqual([]);
    const row = await env.DB.prepare("select body from dead_letters where message_id = 'bad-2'").first();
    expect(JSON.parse(String(row?.body))).toEqual({ reason: "malformed notes.note.created data", body });
  });

  it("stores dead-letter-queue messages in D1 once, even when delivered twice", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const handler = consumer([]);
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
    expect(results[0]).toMatchObject({ event_type: "notes.note.created", tenant_id: TENANT, attempts: 6 });
  });

  it("backs off exponentially up to 5 minutes", () => {
    expect([1, 2, 3, 4, 5, 12].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 32, 300]);
  });
});

describe("wildcard subscriptions", () => {
  it('a "*" subscriber receives every event type, after the type\'s own subscribers, once per event', async () => {
    const order: string[] = [];
    const own: ModuleDef = {
      name: "notes",
      version: "1.0.0",
      events: {
        publishes: Notes,
        subscribes: [subscribe("own", Notes, ["notes.note.created"], async (e) => void order.push(`notes:${e.id}`))],
      },
    };
    const all: ModuleDef = {
      name: "mirror",
      version: "1.0.0",
      events: { subscribes: [subscribeAll("all", async (e) => void order.push(`mirror:${e.id}`))] },
    };
    const handler = consumer([all, own]);
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

describe("a subscription that throws", () => {
  afterEach(() => vi.restoreAllMocks());

  it('does not keep the event from the others: the "*" ones and the stream catalog get it, once, while it retries', async () => {
    // A projection broken for one event held back its audit entry, its webhooks and its stream's
    // catalog row until an operator replayed its dead letter (the on-call drill of 2026-12-05).
    vi.spyOn(console, "error").mockImplementation(() => {});
    const mirrored: string[] = [];
    const { def } = recordingModule(new Set(["held-1"]));
    const all: ModuleDef = {
      name: "mirror",
      version: "1.0.0",
      events: { subscribes: [subscribeAll("all", async (e) => void mirrored.push(e.id))] },
    };
    const handler = consumer([def, all]);
    const body = { ...event("held-1"), stream: `${TENANT}/note/held` };
    for (let attempt = 1; attempt <= 2; attempt++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `held-${attempt}`, timestamp: new Date(), attempts: attempt, body },
      ]);
      const ctx = createExecutionContext();
      await handler(batch, env, ctx);
      // The failing subscription still has the message retried (then dead-lettered) for itself.
      expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([{ msgId: `held-${attempt}` }]);
    }
    expect(mirrored).toEqual(["held-1"]);
    const { results } = await env.DB.prepare(
      "select consumer from processed_events where event_id = 'held-1' order by consumer",
    ).all();
    expect(results).toEqual([{ consumer: "kernel:streams" }, { consumer: "mirror:all" }]);
    const row = await env.DB.prepare("select version from event_streams where stream = ?")
      .bind(`${TENANT}/note/held`)
      .first();
    expect(row).toEqual({ version: 1 });
  });
});

describe("consumer idempotency", () => {
  it("a redelivered event is not handled twice by the same subscriber", async () => {
    const { def, seen } = recordingModule(new Set());
    const handler = consumer([def]);
    for (let i = 0; i < 3; i++) {
      const batch = createMessageBatch("plinth-events", [
        { id: `dup-${i}`, timestamp: new Date(), attempts: 1, body: event("same-event-id") },
      ]);
      const ctx = createExecutionContext();
      await handler(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`dup-${i}`]);
    }
    expect(seen).toEqual(["same-event-id"]);
    const { results } = await env.DB.prepare(
      "select consumer from processed_events where event_id = 'same-event-id' order by consumer",
    ).all();
    // The subscriber's record, and the kernel's stream catalog's.
    expect(results).toEqual([{ consumer: "kernel:streams" }, { consumer: "notes:record" }]);
  });

  it("acks and catalogues events of writers whose streams have no id (the directory's <tenant>/keys)", async () => {
    // A catalog that required <tenant>/<type>/<id> sent these to retries and then dead letters.
    const handler = consumer([]);
    const body = { ...event("keys-stream-1", "identity.keys.created", {}), stream: "t-keys/keys", tenant_id: "t-keys" };
    const batch = createMessageBatch("plinth-events", [{ id: "k-1", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await handler(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect({ acks: result.explicitAcks, retries: result.retryMessages }).toEqual({ acks: ["k-1"], retries: [] });
    const row = await env.DB.prepare("select type, version from event_streams where stream = 't-keys/keys'").first();
    expect(row).toEqual({ type: "keys", version: 1 });
  });

  it('keeps a module\'s typed and "*" subscriptions apart: both handle the same event once', async () => {
    const order: string[] = [];
    const both: ModuleDef = {
      name: "twice",
      version: "1.0.0",
      events: {
        publishes: Notes,
        subscribes: [
          subscribe("typed", Notes, ["notes.note.created"], async (e) => void order.push(`typed:${e.id}`)),
          subscribeAll("all", async (e) => void order.push(`all:${e.id}`)),
        ],
      },
    };
    const handler = consumer([both]);
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
    expect(await processedLedger(readModels(env)).purge(now)).toBeGreaterThanOrEqual(1);
    const { results } = await env.DB.prepare(
      "select event_id from processed_events where consumer = 'purge-test' order by event_id",
    ).all<{ event_id: string }>();
    expect(results.map((r) => r.event_id)).toEqual(["edge-14d", "fresh-1h"]);
  });
});
