// Several events to a queue message: how the relay packs a send, and how the consumer
// settles each event of a pack on its own (applied, dead-lettered alone, or sent on alone).
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import type { OutgoingEvent } from "../../src/kernel/events/envelope";
import { eventsOf, PACK_MAX_EVENTS, packMessages, unpack } from "../../src/kernel/events/pack";
import { createQueueHandler, retryDelaySeconds } from "../../src/kernel/events/queue";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { appendOutbox } from "../../src/kernel/outbox";
import { drainOutbox, type OutboxQueue } from "../../src/kernel/outbox/drain";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { recordingModule } from "./notes-module";

/** An event as a writer sends it; each test run gets its own ids (test files share D1). */
const run = crypto.randomUUID().slice(0, 8);
const event = (n: number, data: Record<string, unknown> = { title: `t${n}` }, tenant = `t-pack-${run}`) => ({
  id: `pack-${run}-${n}`,
  type: "notes.note.created",
  tenant_id: tenant,
  stream: `${tenant}/note/n${n}`,
  version: 1,
  occurred_at: `2026-06-01T00:00:${String(n % 60).padStart(2, "0")}.000Z`,
  actor: { kind: "system" as const, id: null },
  request_id: null,
  data,
});

const consumer = (modules: ModuleDef[]) =>
  createQueueHandler({ modules, needs: KERNEL_NEEDS, clock: manualClock("2026-06-30T12:00:00.000Z") });

/** Runs `handler` on one batch of `bodies` (message ids `<prefix>-<i>`); returns acks and retries. */
async function consume(
  handler: ReturnType<typeof consumer>,
  prefix: string,
  bodies: unknown[],
  queue = "plinth-events",
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `${prefix}-${i}`, timestamp: new Date(), attempts: 2, body })),
  );
  const retry = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await handler(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    acked: result.explicitAcks.sort(),
    retried: result.retryMessages.map((r: { msgId: string }) => r.msgId),
    retry,
  };
}

const pack = (...events: unknown[]) => ({ events });
const deadLetter = (messageId: string) =>
  env.DB.prepare("select * from dead_letters where message_id = ?").bind(messageId).first<Record<string, unknown>>();

describe("packMessages and unpack", () => {
  const item = (n: number, bytes = 500) => ({ body: event(n), bytes });

  it("packs consecutive events, at most 25 to a message, and sends a lone event bare", () => {
    const messages = packMessages(
      Array.from({ length: 60 }, (_, n) => item(n)),
      128_000,
    );
    expect(messages.map((m) => eventsOf(m.body).length)).toEqual([PACK_MAX_EVENTS, PACK_MAX_EVENTS, 10]);
    expect(messages.flatMap((m) => eventsOf(m.body))).toEqual(Array.from({ length: 60 }, (_, n) => event(n)));
    expect(messages.every((m) => m.contentType === "json")).toBe(true);
    // 26 events: the 26th alone, as a bare envelope a consumer from before packs also reads.
    const [, last] = packMessages(
      Array.from({ length: 26 }, (_, n) => item(n)),
      128_000,
    );
    expect(last?.body).toEqual(event(25));
    expect(packMessages([], 128_000)).toEqual([]);
  });

  it("starts a new message before one would pass the byte limit, and never packs past it", () => {
    const messages = packMessages(
      Array.from({ length: 5 }, (_, n) => item(n, 50_000)),
      128_000,
    );
    expect(messages.map((m) => eventsOf(m.body).length)).toEqual([2, 2, 1]);
    for (const m of messages) expect(JSON.stringify(m.body).length).toBeLessThan(128_000);
  });

  it("reads a pack only as an object whose one key is a non-empty events array", () => {
    expect(unpack(pack(event(1), event(2)))).toEqual([event(1), event(2)]);
    for (const notPack of [event(1), { events: [] }, { events: [event(1)], type: "x.y.z" }, [event(1)], null, "x"]) {
      expect(unpack(notPack)).toBeUndefined();
    }
    expect(eventsOf(event(3))).toEqual([event(3)]);
  });
});

describe("the relay", () => {
  it("sends a drain's rows as packs: 60 rows in one sendBatch of three messages, in seq order", async () => {
    const stub = env.TENANT_DIRECTORY.getByName(`pack-relay-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      state.storage.transactionSync(() => {
        for (let n = 0; n < 60; n++) appendOutbox(state.storage.sql, event(n) as OutgoingEvent);
      });
      const sent: MessageSendRequest<unknown>[][] = [];
      const queue: OutboxQueue = {
        async sendBatch(messages) {
          sent.push([...messages]);
          return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
        },
      };
      expect((await drainOutbox(state.storage, queue)).sent).toBe(60);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.map((m) => eventsOf(m.body).length)).toEqual([25, 25, 10]);
      expect(sent.flat().flatMap((m) => eventsOf(m.body))).toEqual(Array.from({ length: 60 }, (_, n) => event(n)));
    });
  });

  it("through Miniflare's queue: a packed send reaches the platform's consumer, which records every event", async () => {
    const tenant = `t-pack-e2e-${crypto.randomUUID()}`;
    const events = Array.from({ length: 30 }, (_, n) => event(n, { title: `e2e ${n}` }, tenant));
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch");
    const stub = env.TENANT_DIRECTORY.getByName(tenant);
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      state.storage.transactionSync(() => {
        for (const e of events) appendOutbox(state.storage.sql, { ...e, id: `${e.id}-e2e` } as OutgoingEvent);
      });
      expect(await new OutboxRelay(state.storage, { clock: systemClock }).flush(env.EVENTS)).toEqual({
        ok: true,
        sent: 30,
        remaining: 0,
      });
    });
    // This relay's send: other objects of the shared workerd may send on EVENTS meanwhile.
    const mine = sendBatch.mock.calls.filter(([messages]) =>
      [...messages].some((m) => JSON.stringify(m.body).includes(tenant)),
    );
    expect(mine.map(([messages]) => [...messages].length)).toEqual([2]);
    sendBatch.mockRestore();
    const ids = JSON.stringify(events.map((e) => `${e.id}-e2e`));
    let recorded = 0;
    for (let i = 0; i < 400 && recorded < 30; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const row = await env.DB.prepare(
        "select count(*) as n from processed_events where consumer = 'kernel:streams' and event_id in (select value from json_each(?))",
      )
        .bind(ids)
        .first<{ n: number }>();
      recorded = row?.n ?? 0;
    }
    expect(recorded).toBe(30);
  });
});

describe("the consumer, given packs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("applies every event of a pack and acks it, alongside bare events in the same batch", async () => {
    const { def, seen } = recordingModule(new Set());
    const { acked, retried } = await consume(consumer([def]), `ok-${run}`, [
      pack(event(1), event(2), event(3)),
      event(4),
    ]);
    expect(acked).toEqual([`ok-${run}-0`, `ok-${run}-1`]);
    expect(retried).toEqual([]);
    expect(seen.sort()).toEqual([event(1).id, event(2).id, event(3).id, event(4).id].sort());
  });

  it("sends an event that failed on alone, after the pack's backoff, and acks the pack; redelivered, it is all that runs again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { def, seen } = recordingModule(new Set([event(12).id]));
    const handler = consumer([def]);
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue({
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    });
    const { acked, retried } = await consume(handler, `split-${run}`, [pack(event(11), event(12), event(13))]);
    expect({ acked, retried }).toEqual({ acked: [`split-${run}-0`], retried: [] });
    expect(seen.sort()).toEqual([event(11).id, event(13).id].sort());
    expect(sendBatch).toHaveBeenCalledTimes(1);
    expect([...(sendBatch.mock.calls[0]?.[0] ?? [])]).toEqual([
      { body: event(12), contentType: "json", delaySeconds: retryDelaySeconds(2) },
    ]);
    // The event sent on arrives alone and fails alone: retried (then dead-lettered) like any bare message.
    const alone = await consume(handler, `alone-${run}`, [event(12)]);
    expect(alone.retried).toEqual([`alone-${run}-0`]);
    expect(seen).toHaveLength(2);
  });

  it("retries the pack whole when its failed events cannot be sent on, and applies nothing twice", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const fail = new Set([event(22).id]);
    const { def, seen } = recordingModule(fail);
    const handler = consumer([def]);
    vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValue(new Error("Queue sendBatch failed"));
    const first = await consume(handler, `whole-${run}`, [pack(event(21), event(22), event(23))]);
    expect(first.retried).toEqual([`whole-${run}-0`]);
    expect(first.retry[0]).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(2) });
    expect(seen.sort()).toEqual([event(21).id, event(23).id].sort());
    // Back again, the cause gone: only the event that failed runs; the others are recorded.
    fail.clear();
    const again = await consume(handler, `whole-again-${run}`, [pack(event(21), event(22), event(23))]);
    expect(again.acked).toEqual([`whole-again-${run}-0`]);
    expect(seen.sort()).toEqual([event(21).id, event(22).id, event(23).id].sort());
  });

  it("stores a malformed event of a pack, and one whose data its schema refuses, as dead letters of their own", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { def, seen } = recordingModule(new Set());
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch");
    // Without an id, a malformed event is its letter by its bytes: this test's own, not the next test's.
    const broken = { type: "x.y.z", test: `bad-${run}` };
    const refused = event(32, { title: 42 });
    const id = `bad-${run}`;
    const { acked, retried } = await consume(consumer([def]), id, [pack(event(31), broken, refused, event(33))]);
    expect({ acked, retried }).toEqual({ acked: [`${id}-0`], retried: [] });
    expect(seen.sort()).toEqual([event(31).id, event(33).id].sort());
    expect(sendBatch).not.toHaveBeenCalled();
    const envelope = await deadLetter(`${id}-0/1`);
    expect(JSON.parse(String(envelope?.body))).toEqual({ reason: "malformed event envelope", body: broken });
    const data = await deadLetter(`${id}-0/2`);
    expect(data).toMatchObject({ event_type: "notes.note.created", tenant_id: refused.tenant_id, attempts: 2 });
    expect(JSON.parse(String(data?.body))).toEqual({ reason: "malformed notes.note.created data", body: refused });
    expect(await deadLetter(`${id}-0`)).toBeNull();
  });

  it("retries a pack whole when its malformed event cannot be stored, and applies nothing twice when it returns", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { def, seen } = recordingModule(new Set());
    const handler = consumer([def]);
    const prepare = env.DB.prepare.bind(env.DB);
    const refuse = vi.spyOn(env.DB, "prepare").mockImplementation((query: string) => {
      if (/insert into "dead_letters"/.test(query)) throw new Error("D1_ERROR: dead_letters unavailable");
      return prepare(query);
    });
    const id = `held-${run}`;
    const bodies = [pack(event(51), { type: "x.y.z", test: `held-${run}` }, event(52))];
    const first = await consume(handler, id, bodies);
    expect(first).toMatchObject({ acked: [], retried: [`${id}-0`] });
    expect(first.retry[0]).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(2) });
    expect(seen.sort()).toEqual([event(51).id, event(52).id].sort());
    expect(await deadLetter(`${id}-0/1`)).toBeNull();
    refuse.mockRestore();
    const again = await consume(handler, `${id}-again`, bodies);
    expect(again).toMatchObject({ acked: [`${id}-again-0`], retried: [] });
    expect(seen).toHaveLength(2);
    expect(await deadLetter(`${id}-again-0/1`)).toMatchObject({ queue: "plinth-events" });
  });

  it("stores a pack that reached the dead-letter queue one letter per event, each with its tenant and type", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const other = event(42, { title: "x" }, `t-pack-other-${run}`);
    const id = `dlq-${run}`;
    const { acked } = await consume(consumer([]), id, [pack(event(41), other)], "plinth-events-dlq");
    expect(acked).toEqual([`${id}-0`]);
    expect(await deadLetter(`${id}-0/0`)).toMatchObject({
      tenant_id: event(41).tenant_id,
      event_type: "notes.note.created",
    });
    expect(await deadLetter(`${id}-0/1`)).toMatchObject({ tenant_id: other.tenant_id, attempts: 2 });
    expect(JSON.parse(String((await deadLetter(`${id}-0/1`))?.body)).body).toEqual(other);
  });
});
