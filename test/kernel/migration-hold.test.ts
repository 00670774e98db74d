// A projection write that fails on a table or column a pending migration adds waits for
// it (held: re-sent after a delay, its attempts anew) instead of ending as a dead letter.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { HOLD_SECONDS } from "../../src/kernel/events/migration-hold";
import { createQueueHandler, retryDelaySeconds } from "../../src/kernel/events/queue";
import { subscribe } from "../../src/kernel/events/subscribe";
import { migrationWatch } from "../../src/kernel/health/pending-migrations";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { Notes } from "./notes-module";

const PENDING = "9999_held_rows.sql";

/** A module whose projection writes each note into `held_rows`. */
const rows: ModuleDef = {
  name: "notes",
  version: "1.0.0",
  events: {
    publishes: Notes,
    subscribes: [
      subscribe("rows", Notes, ["notes.note.created"], async (e, rt) => {
        await rt.env.DB.prepare("insert into held_rows (event_id, title) values (?, ?)").bind(e.id, e.data.title).run();
      }),
    ],
  },
};

// The files a test worker runs share one D1 (vitest.config.ts) and a dead letter is kept once per event, or per body
// when it has no id: this file's tenant and malformed body are its own.
const run = crypto.randomUUID().slice(0, 8);
const TENANT = `t-hold-${run}`;

const event = (id: string) => ({
  id,
  type: "notes.note.created",
  tenant_id: TENANT,
  stream: `${TENANT}/note/${id}`,
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: { title: `title of ${id}` },
});

/** env.DB, except that `d1_migrations` lists `applied()`; its reads are counted. */
function migratedTo(applied: () => readonly string[], reads: { n: number }): D1Database {
  return new Proxy(env.DB, {
    get(target, key) {
      if (key === "prepare")
        return (query: string) => {
          if (!query.includes("d1_migrations")) return target.prepare(query);
          reads.n++;
          return { all: async () => ({ results: applied().map((name) => ({ name })) }) };
        };
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** What is sent to the events queue, which is not delivered. */
function recordingQueue() {
  const sent: { body: unknown; delaySeconds?: number }[] = [];
  vi.spyOn(env.EVENTS, "sendBatch").mockImplementation(async (messages) => {
    for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
  });
  return { sent, queue: env.EVENTS };
}

async function deliver(handler: ReturnType<typeof createQueueHandler>, testEnv: Env, id: string, body: unknown) {
  const batch = createMessageBatch("plinth-events", [{ id, timestamp: new Date(), attempts: 5, body }]);
  const retry = vi.spyOn(batch.messages[0] as Message<unknown>, "retry");
  const ctx = createExecutionContext();
  await handler(batch, testEnv, ctx);
  return { result: await getQueueResult(batch, ctx), retry };
}

const rowsOf = async () =>
  (await env.DB.prepare("select event_id, title from held_rows order by event_id").all()).results;
const letters = async (id: string) =>
  (await env.DB.prepare("select count(*) as n from dead_letters where message_id = ?").bind(id).first<{ n: number }>())
    ?.n;

describe("a projection write while a migration is pending", () => {
  beforeEach(async () => {
    await env.DB.prepare("drop table if exists held_rows").run();
    await env.DB.prepare("drop table if exists held_rows_away").run();
  });
  afterEach(() => vi.restoreAllMocks());

  it("on a missing table is held (re-sent later, acked, no retry counted) and applies once the table is there", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.prepare("create table held_rows_away (event_id text primary key, title text not null)").run();
    const clock = manualClock("2026-06-30T12:00:00.000Z");
    let applied: readonly string[] = MIGRATIONS;
    const reads = { n: 0 };
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, DB: migratedTo(() => applied, reads), EVENTS: queue } as Env;
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock,
      schema: migrationWatch([...MIGRATIONS, PENDING]),
    });

    // The message's last attempt before the dead-letter queue: it must not be retried.
    const first = await deliver(handler, testEnv, "m1", event("e1"));
    expect(first.result.explicitAcks).toEqual(["m1"]);
    expect(first.result.retryMessages).toEqual([]);
    expect(first.retry).not.toHaveBeenCalled();
    expect(sent).toEqual([{ body: event("e1"), delaySeconds: HOLD_SECONDS }]);
    expect(await letters("m1")).toBe(0);
    const line = warn.mock.calls.map(([l]) => JSON.parse(String(l))).find((l) => l.msg?.includes("pending migration"));
    expect(line).toMatchObject({ missing: ["table held_rows"], pending: [PENDING] });

    // The migration is applied: the re-sent message applies.
    await env.DB.prepare("alter table held_rows_away rename to held_rows").run();
    applied = [...MIGRATIONS, PENDING];
    clock.advance(HOLD_SECONDS * 1000);
    const again = await deliver(handler, testEnv, "m2", sent[0]?.body);
    expect(again.result.explicitAcks).toEqual(["m2"]);
    expect(await rowsOf()).toEqual([{ event_id: "e1", title: "title of e1" }]);
    // Only a failure a migration could explain looks at d1_migrations, once per look's window.
    await deliver(handler, testEnv, "m3", event("e3"));
    expect(reads.n).toBe(1);
  });

  it("on a missing column is held too, naming the column", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.prepare("create table held_rows (event_id text primary key)").run();
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, DB: migratedTo(() => MIGRATIONS, { n: 0 }), EVENTS: queue } as Env;
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-30T12:00:00.000Z"),
      schema: migrationWatch([...MIGRATIONS, PENDING]),
    });
    const { result } = await deliver(handler, testEnv, "c1", event("c1"));
    expect(result.explicitAcks).toEqual(["c1"]);
    expect(sent).toHaveLength(1);
    const line = warn.mock.calls.map(([l]) => JSON.parse(String(l))).find((l) => l.msg?.includes("pending migration"));
    expect(line?.missing).toEqual(["column title of held_rows"]);
  });

  it("of a pack holds only its failed events: a malformed one, already a dead letter, is not re-sent to be stored again", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.prepare("create table held_rows_away (event_id text primary key, title text not null)").run();
    const clock = manualClock("2026-06-30T12:00:00.000Z");
    let applied: readonly string[] = MIGRATIONS;
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, DB: migratedTo(() => applied, { n: 0 }), EVENTS: queue } as Env;
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock,
      schema: migrationWatch([...MIGRATIONS, PENDING]),
    });
    const broken = { type: "x.y.z", test: `held-${run}` };
    const first = await deliver(handler, testEnv, "pk1", { events: [broken, event("p1"), event("p2")] });
    expect(first.result.explicitAcks).toEqual(["pk1"]);
    expect(await letters("pk1/0")).toBe(1);
    // What waits is the two events the migration holds up, packed as they came, and nothing else.
    expect(sent).toEqual([{ body: { events: [event("p1"), event("p2")] }, delaySeconds: HOLD_SECONDS }]);

    await env.DB.prepare("alter table held_rows_away rename to held_rows").run();
    applied = [...MIGRATIONS, PENDING];
    clock.advance(HOLD_SECONDS * 1000);
    const again = await deliver(handler, testEnv, "pk2", sent[0]?.body);
    expect(again.result.explicitAcks).toEqual(["pk2"]);
    expect(await rowsOf()).toEqual([
      { event_id: "p1", title: "title of p1" },
      { event_id: "p2", title: "title of p2" },
    ]);
    expect(await letters("pk2/0")).toBe(0);
  });

  it("of a batch larger than one sendBatch takes is re-sent in several, each within Queues' limits", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    // Queues refuses a sendBatch over 100 messages or 256 KB: so does this one, as the platform would.
    const calls: number[] = [];
    vi.spyOn(env.EVENTS, "sendBatch").mockImplementation(async (messages) => {
      const all = [...messages];
      const bytes = all.reduce((n, m) => n + JSON.stringify(m.body).length + 100, 0);
      if (all.length > 100 || bytes > 256_000) throw new Error(`sendBatch: ${all.length} messages, ${bytes} bytes`);
      calls.push(all.length);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    });
    const testEnv = { ...env, DB: migratedTo(() => MIGRATIONS, { n: 0 }), EVENTS: env.EVENTS } as Env;
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-30T12:00:00.000Z"),
      schema: migrationWatch([...MIGRATIONS, PENDING]),
    });
    // Four events of ~90 KB each (a message carries up to 128 KB): ~360 KB together.
    const big = (id: string) => ({ ...event(id), data: { title: "x".repeat(90_000) } });
    const batch = createMessageBatch(
      "plinth-events",
      ["g1", "g2", "g3", "g4"].map((id) => ({ id, timestamp: new Date(), attempts: 5, body: big(id) })),
    );
    const ctx = createExecutionContext();
    await handler(batch, testEnv, ctx);
    const result = await getQueueResult(batch, ctx);
    // Every one held: re-sent and acked, none retried toward the dead-letter queue.
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(["g1", "g2", "g3", "g4"]);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it("is held when the migration went missing after the isolate found none pending (D1 restored to before it)", async () => {
    // The watch, once settled, was never asked again: after a Time Travel restore to before a
    // migration, the projections needing it were retried into the dead-letter queue.
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const clock = manualClock("2026-06-30T12:00:00.000Z");
    let applied: readonly string[] = [...MIGRATIONS, PENDING];
    const reads = { n: 0 };
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, DB: migratedTo(() => applied, reads), EVENTS: queue } as Env;
    const schema = migrationWatch([...MIGRATIONS, PENDING]);
    await schema.look(testEnv, clock.now().getTime());
    expect(schema.settled()).toBe(true);
    const handler = createQueueHandler({ modules: [rows], needs: KERNEL_NEEDS, clock, schema });
    applied = MIGRATIONS;
    clock.advance(60_000);
    const { result, retry } = await deliver(handler, testEnv, "r1", event("r1"));
    expect(result.explicitAcks).toEqual(["r1"]);
    expect(retry).not.toHaveBeenCalled();
    expect(sent).toEqual([{ body: event("r1"), delaySeconds: HOLD_SECONDS }]);
    expect(schema.settled()).toBe(false);
    expect(reads.n).toBe(2);
  });

  it("with every shipped migration applied is a bug: retried with backoff as any failure", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, DB: migratedTo(() => MIGRATIONS, { n: 0 }), EVENTS: queue } as Env;
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-30T12:00:00.000Z"),
      schema: migrationWatch(MIGRATIONS),
    });
    const { result, retry } = await deliver(handler, testEnv, "b1", event("b1"));
    expect(result.retryMessages).toEqual([{ msgId: "b1" }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: retryDelaySeconds(5) });
    expect(sent).toEqual([]);
  });

  it("in development is held even with every shipped migration applied: its migration is not generated yet", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.prepare("create table held_rows (event_id text primary key)").run();
    const { sent, queue } = recordingQueue();
    const testEnv = { ...env, ENVIRONMENT: "development", DB: migratedTo(() => MIGRATIONS, { n: 0 }), EVENTS: queue };
    const handler = createQueueHandler({
      modules: [rows],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-30T12:00:00.000Z"),
      schema: migrationWatch(MIGRATIONS),
    });
    const { result, retry } = await deliver(handler, testEnv as Env, "d1", event("d1"));
    expect(result.explicitAcks).toEqual(["d1"]);
    expect(retry).not.toHaveBeenCalled();
    expect(sent).toEqual([{ body: event("d1"), delaySeconds: HOLD_SECONDS }]);
    const line = warn.mock.calls.map(([l]) => JSON.parse(String(l))).find((l) => l.msg?.includes("pending migration"));
    expect(line).toMatchObject({ missing: ["column title of held_rows"], pending: [] });
    expect(line?.hint).toContain("drizzle-kit generate");
    // Or it was generated, under a name the local D1 had applied before (a scaffold's table
    // reshaped and its migration generated again): the hint named only the step already done.
    expect(line?.hint).toContain("rm -rf .wrangler/state");
  });
});
