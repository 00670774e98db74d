// The events dead-letter queue has no queue behind it: a message it retries past its last retry
// (max_retries, wrangler.toml) is deleted by Queues, events and all. A D1 outage (or a config
// broken for longer than those retries) would so lose every event that ran out of retries
// during it. On its last delivery a letter that cannot be stored goes back to the events queue
// instead, to be applied there or to come back here with its retries anew.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { EVENTS_DLQ_MAX_RETRIES } from "../../src/kernel/events/dlq-retries";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { subscribe } from "../../src/kernel/events/subscribe";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { d1Down, recordingQueue, unreadableRegistry } from "../notify/helpers";
import { Notes } from "./notes-module";

afterEach(() => vi.restoreAllMocks());

const clock = manualClock("2026-06-30T12:00:00.000Z");
const run = crypto.randomUUID().slice(0, 8);

/** An event of a tenant of this run as writers send it. */
const event = (n: number) => ({
  id: `dlq-last-${run}-${n}`,
  type: "notes.note.created",
  tenant_id: `t-dlq-${run}`,
  stream: `t-dlq-${run}/note/n${n}`,
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: { title: `t${n}` },
});

let ids = 0;
/** Runs the events consumer of `modules` on `bodies` from `queue`; the queue's verdict and the messages' ids. */
async function consume(
  bodies: unknown[],
  { queue = "plinth-events-dlq", attempts = 1, batchEnv = env, modules = [] as ModuleDef[] } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: `dlq-last-${run}-m${++ids}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await createQueueHandler({ modules, needs: KERNEL_NEEDS, clock })(batch, batchEnv, ctx);
  return { result: await getQueueResult(batch, ctx), ids: batch.messages.map((m) => m.id) };
}

/** The lines `spy` (a console method) was given, one string. */
const linesOf = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map((args) => String(args[0])).join("\n");

describe("an events dead letter D1 cannot store", () => {
  it("is retried on the dead-letter queue while it has retries left", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const events = recordingQueue();
    const { result, ids } = await consume([event(1)], { batchEnv: d1Down({ EVENTS: events.queue }) });
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    expect(events.taken).toEqual([]);
  });

  it("goes back to the events queue on its last delivery, as it was, instead of being dropped by Queues", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const events = recordingQueue();
    const body = { events: [event(2), event(3)] };
    const { result, ids } = await consume([body], {
      attempts: EVENTS_DLQ_MAX_RETRIES,
      batchEnv: d1Down({ EVENTS: events.queue }),
    });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(ids);
    expect(events.taken).toEqual([body]);
    expect(linesOf(errors)).toContain("sent back to the events queue");
  });

  it("is retried, and says it will be lost, when the events queue refuses it too", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const events = recordingQueue({ refuse: true });
    const { result, ids } = await consume([event(4)], {
      attempts: EVENTS_DLQ_MAX_RETRIES + 1,
      batchEnv: d1Down({ EVENTS: events.queue }),
    });
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    expect(linesOf(errors)).toContain("nor sent back");
  });

  it("goes back on its last delivery when the tenant registry cannot be read either", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const events = recordingQueue();
    const [last, early] = [event(5), event(6)];
    const batch = createMessageBatch("plinth-events-dlq", [
      { id: `dlq-last-${run}-reg-last`, timestamp: new Date(), attempts: EVENTS_DLQ_MAX_RETRIES, body: last },
      { id: `dlq-last-${run}-reg-early`, timestamp: new Date(), attempts: 2, body: early },
    ]);
    const ctx = createExecutionContext();
    const handler = createQueueHandler({ modules: [unreadableRegistry], needs: KERNEL_NEEDS, clock });
    await handler(batch, { ...env, EVENTS: events.queue }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([`dlq-last-${run}-reg-last`]);
    expect(result.retryMessages).toEqual([{ msgId: `dlq-last-${run}-reg-early` }]);
    expect(events.taken).toEqual([last]);
  });

  it("of a pack, sends back only the events not stored, so none becomes a dead letter twice", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const events = recordingQueue();
    const [stored, refused] = [event(7), event(8)];
    // D1 refuses only the statement that would store the pack's second event (`<message id>/1`).
    const DB = new Proxy(env.DB, {
      get(target, name) {
        const value = Reflect.get(target, name);
        if (name !== "prepare") return typeof value === "function" ? value.bind(target) : value;
        return (sql: string) => {
          const statement = target.prepare(sql);
          return new Proxy(statement, {
            get(st, key) {
              const v = Reflect.get(st, key);
              if (key !== "bind") return typeof v === "function" ? v.bind(st) : v;
              return (...args: unknown[]) => {
                if (args.some((a) => typeof a === "string" && a.endsWith("/1"))) throw new Error("D1_ERROR: busy");
                return st.bind(...args);
              };
            },
          });
        };
      },
    });
    const { result, ids } = await consume([{ events: [stored, refused] }], {
      attempts: EVENTS_DLQ_MAX_RETRIES,
      batchEnv: { ...env, DB, EVENTS: events.queue },
    });
    expect(result.explicitAcks).toEqual(ids);
    expect(events.taken).toEqual([refused]);
    const { results } = await env.DB.prepare("select message_id from dead_letters where message_id like ?")
      .bind(`${ids[0]}/%`)
      .all();
    expect(results).toEqual([{ message_id: `${ids[0]}/0` }]);
  });

  it("is applied once there by the subscription that failed on it, and not again by those that had it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const failing = new Set<string>();
    const seen = { ok: [] as string[], flaky: [] as string[] };
    const def: ModuleDef = {
      name: "notes",
      version: "1.0.0",
      events: {
        publishes: Notes,
        subscribes: [
          subscribe("ok", Notes, ["notes.note.created"], async (e) => void seen.ok.push(e.id)),
          subscribe("flaky", Notes, ["notes.note.created"], async (e) => {
            if (failing.has(e.id)) throw new Error(`cannot handle ${e.id}`);
            seen.flaky.push(e.id);
          }),
        ],
      },
    };
    const body = event(9);
    failing.add(body.id);
    const first = await consume([body], { queue: "plinth-events", modules: [def] });
    expect(first.result.retryMessages).toHaveLength(1);
    // Its retries ran out, then the dead-letter queue's, through a D1 outage: it goes back.
    const events = recordingQueue();
    await consume([body], { attempts: EVENTS_DLQ_MAX_RETRIES, batchEnv: d1Down({ EVENTS: events.queue }) });
    expect(events.taken).toEqual([body]);
    failing.clear();
    for (let i = 0; i < 2; i++) {
      const again = await consume(events.taken, { queue: "plinth-events", modules: [def] });
      expect(again.result.explicitAcks).toEqual(again.ids);
    }
    expect(seen).toEqual({ ok: [body.id], flaky: [body.id] });
  });
});

describe("an events dead letter under an invalid config (a variable broken by a deploy)", () => {
  // What a deploy could set: the binding's type knows only the values wrangler.toml holds.
  const broken = (EVENTS: Queue): Env => Object.assign(Object.create(null), env, { LOG_LEVEL: "chatty", EVENTS });

  it("goes back to the events queue on its last delivery; the rest of the batch waits for the fix", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const events = recordingQueue();
    const [last, early] = [event(10), event(11)];
    const batch = createMessageBatch("plinth-events-dlq", [
      { id: `dlq-last-${run}-cfg-last`, timestamp: new Date(), attempts: EVENTS_DLQ_MAX_RETRIES, body: last },
      { id: `dlq-last-${run}-cfg-early`, timestamp: new Date(), attempts: 1, body: early },
    ]);
    const ctx = createExecutionContext();
    await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock })(batch, broken(events.queue), ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([`dlq-last-${run}-cfg-last`]);
    expect(result.retryMessages).toEqual([{ msgId: `dlq-last-${run}-cfg-early` }]);
    expect(result.retryBatch.retry).toBe(false);
    expect(events.taken).toEqual([last]);
    expect(linesOf(errors)).toContain("sent back to the events queue");

    const earlyOnly = await consume([early], { batchEnv: broken(events.queue) });
    expect(earlyOnly.result.retryBatch.retry).toBe(true);
    expect(events.taken).toEqual([last]);
  });
});
