// The queue consumer and the writers' inline pass, a batch at a time: the same
// read model as one-at-a-time delivery whatever a batch mixes, all-or-nothing
// commits, nothing lost, the same audit chain, and D1 round trips counted.
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { consumerStats } from "../../src/kernel/events/consume";
import type { Envelope } from "../../src/kernel/events/envelope";
import { InlineProjector } from "../../src/kernel/events/inline";
import { createQueueHandler } from "../../src/kernel/events/queue";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { modules } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { postDecider } from "../../src/modules/blog/domain";
import { call, newTenant } from "../identity/helpers";

const tallyTable = sqliteTable("tally", { event_id: text("event_id").primaryKey(), note: text("note").notNull() });
const platform = createPlatform({ modules, migrations: MIGRATIONS });
const consumer = createQueueHandler(platform);
const BLOG = "blog:blog.posts";
const AUDIT = "audit:log";
/** The webhooks fan-out, which sees every event too. */
const WEBHOOKS = "webhooks:dispatch";

type Row = Record<string, unknown>;

/** A post written through HTTP with a few edits; its stored events once the platform has consumed them. */
async function postWithHistory(tenant: { id: string; adminKey: string }, edits: number): Promise<Envelope[]> {
  const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: "t0", content: "c0" } });
  const id = String(created.body.id);
  for (let i = 1; i <= edits; i++) {
    await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: tenant.adminKey, body: { title: `t${i}` } });
  }
  const events = await aggregateOf(env, postDecider, tenant.id, id).read(1, 1000);
  await recorded(events, [BLOG, AUDIT, WEBHOOKS]);
  return events;
}

/** Waits until the platform's own consumers recorded `events`, so no late delivery changes what a test looks at. */
async function recorded(events: readonly Envelope[], consumers: readonly string[]): Promise<void> {
  const ids = JSON.stringify(events.map((e) => e.id));
  for (let i = 0; i < 400; i++) {
    const row = await env.DB.prepare(
      "select count(*) as n from processed_events where event_id in (select value from json_each(?1)) and consumer in (select value from json_each(?2))",
    )
      .bind(ids, JSON.stringify(consumers))
      .first<{ n: number }>();
    if (row?.n === events.length * consumers.length) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the platform did not consume the events in 10 s");
}

/** Forgets what `consumer` recorded of `events` and the read-model rows of their posts. */
async function forget(events: readonly Envelope[], consumer: string): Promise<void> {
  const ids = JSON.stringify(events.map((e) => e.id));
  await env.DB.prepare(
    "delete from processed_events where consumer = ? and event_id in (select value from json_each(?))",
  )
    .bind(consumer, ids)
    .run();
  for (const stream of new Set(events.map((e) => e.stream))) {
    const [tenantId, , id] = stream.split("/");
    await env.DB.prepare("delete from blog_posts where tenant_id = ? and id = ?").bind(tenantId, id).run();
  }
}

async function rowsOf(events: readonly Envelope[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const stream of [...new Set(events.map((e) => e.stream))].sort()) {
    const [tenantId, , id] = stream.split("/");
    const row = await env.DB.prepare("select * from blog_posts where tenant_id = ? and id = ?")
      .bind(tenantId, id)
      .first<Row>();
    out.push(row ?? { missing: stream });
  }
  return out;
}

let messageNo = 0;
/** Runs the platform's queue consumer on `bodies` as one batch; returns which messages were acked and retried. */
async function consume(bodies: readonly unknown[], handler = consumer) {
  const batch = createMessageBatch(
    "plinth-events",
    bodies.map((body) => ({ id: `m-${++messageNo}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handler(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const idOf = new Map(batch.messages.map((m) => [m.id, m.body as Envelope]));
  return {
    acked: result.explicitAcks.map((m: string) => idOf.get(m)?.id),
    retried: result.retryMessages.map((m: { msgId: string }) => idOf.get(m.msgId)?.id),
  };
}

/** `events` as relays send them: packs of `size` (kernel/events/pack.ts). */
const inPacks = (events: readonly Envelope[], size: number) =>
  Array.from({ length: Math.ceil(events.length / size) }, (_, i) => ({
    events: events.slice(i * size, (i + 1) * size),
  }));

/** A deterministic shuffle (the same on every run). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 7;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("batched consumption", () => {
  afterEach(() => vi.restoreAllMocks());

  it("projects from one mixed batch exactly what one-at-a-time delivery projects", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const [a, b] = [await newTenant(), await newTenant()];
    const events = [
      ...(await postWithHistory(a, 3)),
      ...(await postWithHistory(a, 1)),
      ...(await postWithHistory(b, 4)),
    ];
    // One at a time, in order: the reference.
    await forget(events, BLOG);
    for (const e of events) expect((await consume([e])).acked).toEqual([e.id]);
    const reference = await rowsOf(events);
    expect(reference.every((r) => !("missing" in r))).toBe(true);

    // One batch: shuffled (versions out of order), every third event twice, a poison message
    // (data its schema refuses) and an event whose predecessors its writer never had.
    await forget(events, BLOG);
    const last = events.at(-1) as Envelope;
    const poison = { ...last, id: "poison-1", version: last.version + 1, data: { title: 42 } };
    const ahead = { ...last, id: "ahead-1", version: last.version + 5 };
    const mixed = shuffled([...events, ...events.filter((_, i) => i % 3 === 0), poison, ahead]);
    const { acked, retried } = await consume(mixed);

    expect(await rowsOf(events)).toEqual(reference);
    // Each message settled on its own: the poison one stored as a dead letter (acked), the one
    // ahead of its writer retried, every other one acked.
    expect(retried).toEqual(["ahead-1"]);
    expect(acked.filter((id: string | undefined) => id !== "poison-1").sort()).toEqual(
      mixed
        .map((e) => e.id)
        .filter((id) => id !== "poison-1" && id !== "ahead-1")
        .sort(),
    );
    expect(acked).toContain("poison-1");
    const dead = await env.DB.prepare(
      "select body from dead_letters where json_extract(body, '$.body.id') = 'poison-1'",
    ).first<{
      body: string;
    }>();
    expect(JSON.parse(String(dead?.body)).reason).toBe("malformed blog.post.updated data");

    // The same events in packs of five (as relays send them): the same rows; the poison event is
    // stored alone and the one ahead of its writer is sent on alone, each pack being acked.
    await forget(events, BLOG);
    const sentOn = vi.spyOn(env.EVENTS, "sendBatch").mockResolvedValue({
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    });
    const packed = await consume(inPacks(mixed, 5));
    expect(await rowsOf(events)).toEqual(reference);
    expect({ acked: packed.acked.length, retried: packed.retried }).toEqual({
      acked: Math.ceil(mixed.length / 5),
      retried: [],
    });
    expect(sentOn.mock.calls.flatMap(([messages]) => [...messages].map((m) => (m.body as Envelope).id))).toEqual([
      "ahead-1",
    ]);
  });

  it("commits a batch all or nothing: a failing write leaves nothing half-applied, retries lose nothing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.exec("create table if not exists tally (event_id text primary key, note text not null)");
    const events = ["g1", "g2", "bad", "g3"].map(
      (id, i): Envelope => ({
        id: `tally-${id}-${crypto.randomUUID()}`,
        type: "tally.item.counted",
        tenant_id: "t-tally",
        stream: `t-tally/item/${id}`,
        version: 1,
        occurred_at: `2026-06-01T00:00:0${i}.000Z`,
        actor: { kind: "system", id: null },
        request_id: null,
        data: { note: id === "bad" ? null : id },
      }),
    );
    let batches = 0;
    const tally: ModuleDef = {
      name: "tally",
      version: "1.0.0",
      events: {
        subscribes: [
          {
            name: "count",
            types: ["tally.item.counted"],
            async handleBatch(batch, { env: e }) {
              batches++;
              // A null note breaks `not null`: the whole transaction fails.
              const writes = batch.map((ev) =>
                drizzle(e.DB)
                  .insert(tallyTable)
                  .values({ event_id: ev.id, note: ev.data.note as string }),
              );
              return { writes };
            },
          },
        ],
      },
    };
    const handler = createQueueHandler({
      modules: [tally],
      needs: KERNEL_NEEDS,
      clock: manualClock("2026-06-02T00:00:00Z"),
    });
    const first = await consume(events, handler);
    // The batch failed as a whole, then each event alone: the three good ones committed, the bad one retried.
    expect(batches).toBe(1 + events.length);
    expect(first.retried).toEqual([events[2]?.id]);
    const { results } = await env.DB.prepare("select event_id from tally order by event_id").all<{
      event_id: string;
    }>();
    expect(results.map((r) => r.event_id).sort()).toEqual([events[0]?.id, events[1]?.id, events[3]?.id].sort());
    const marks = await env.DB.prepare(
      "select event_id from processed_events where consumer = 'tally:count' and event_id in (select value from json_each(?))",
    )
      .bind(JSON.stringify(events.map((e) => e.id)))
      .all<{ event_id: string }>();
    expect(marks.results.map((r) => r.event_id).sort()).toEqual([events[0]?.id, events[1]?.id, events[3]?.id].sort());
    // Redelivered with the rest: the recorded ones are skipped, the bad one fails again, alone.
    const again = await consume(events, handler);
    expect(again.retried).toEqual([events[2]?.id]);
    expect((await env.DB.prepare("select count(*) as n from tally").first<{ n: number }>())?.n).toBe(3);
  });
});

/** Empties a tenant's audit chain (the AuditLog object and its D1 copy) and what the audit subscription recorded. */
async function wipeAudit(tenantId: string, events: readonly Envelope[]): Promise<void> {
  const stub = env.AUDIT_LOG.getByName(tenantId);
  await runInDurableObject(stub, async (_instance: AuditLog, state) => {
    for (const table of ["entries", "checkpoints", "meta"]) state.storage.sql.exec(`delete from ${table}`);
  });
  await env.DB.prepare("delete from audit_entries where tenant_id = ?").bind(tenantId).run();
  await env.DB.prepare(
    "delete from processed_events where consumer = ? and event_id in (select value from json_each(?))",
  )
    .bind(AUDIT, JSON.stringify(events.map((e) => e.id)))
    .run();
}

describe("the audit chain", () => {
  it("is identical whichever way its events arrive: one at a time, one shuffled batch with repeats, in packs, or uneven batches", async () => {
    const t = await newTenant();
    const events = [...(await postWithHistory(t, 2)), ...(await postWithHistory(t, 3))];
    const chain = async () => {
      const entries = await auditLog(env, t.id).entries({ fromSeq: 1, limit: 500 });
      return entries.map((e) => ({ seq: e.seq, action: e.action, target: e.target, hash: e.hash }));
    };
    const ordered = [...events].sort(
      (x, y) => x.occurred_at.localeCompare(y.occurred_at) || x.stream.localeCompare(y.stream) || x.version - y.version,
    );

    await wipeAudit(t.id, events);
    for (const e of ordered) await consume([e]);
    const reference = await chain();
    expect(reference).toHaveLength(events.length);

    await wipeAudit(t.id, events);
    await consume(shuffled([...events, ...events.slice(0, 3)]));
    expect(await chain()).toEqual(reference);

    await wipeAudit(t.id, events);
    await consume(inPacks(shuffled([...events, ...events.slice(0, 3)]), 4));
    expect(await chain()).toEqual(reference);

    await wipeAudit(t.id, events);
    await consume(ordered.slice(0, 2));
    await consume(ordered.slice(2, 7).reverse());
    await consume(ordered.slice(7));
    expect(await chain()).toEqual(reference);
    // The D1 copy holds the same chain.
    const { results } = await env.DB.prepare("select seq, hash from audit_entries where tenant_id = ? order by seq")
      .bind(t.id)
      .all<{ seq: number; hash: string }>();
    expect(results).toEqual(reference.map(({ seq, hash }) => ({ seq, hash })));
  });
});

describe("D1 round trips", () => {
  it("are counted, and a batch costs a few for all its events, not a few per event", async () => {
    const t = await newTenant();
    const events = [...(await postWithHistory(t, 9)), ...(await postWithHistory(t, 9))];
    await forget(events, BLOG);
    await wipeAudit(t.id, events);
    const before = { ...consumerStats.queue };
    const { acked } = await consume(events);
    expect(acked).toHaveLength(events.length);
    const trips = consumerStats.queue.d1_round_trips - before.d1_round_trips;
    // The ledger (1), the blog rows (1), the blog writes with their marks (1), the audit copy with its marks (1).
    expect(trips).toBe(4);
    expect(consumerStats.queue.applied - before.applied).toBe(events.length * 2);
    // Redelivered: one ledger read finds everything recorded, and nothing else runs.
    const again = consumerStats.queue.d1_round_trips;
    await consume(events);
    expect(consumerStats.queue.d1_round_trips - again).toBe(1);
  });
});

describe("the writer's inline pass", () => {
  it("applies a commit's events to inline subscriptions at once and records them, leaving gaps to the queue", async () => {
    const t = await newTenant();
    const events = await postWithHistory(t, 3);
    await forget(events, BLOG);
    const inline = new InlineProjector(platform, env);
    // Versions 1 and 2, then 4 (3 is missing: left for the queue, unrecorded).
    const [v1, v2, v3, v4] = events as [Envelope, Envelope, Envelope, Envelope];
    await inline.push([v1, v2]);
    await inline.push([v4]);
    const [row] = await rowsOf(events);
    expect(row).toMatchObject({ version: 2, title: "t1" });
    const marks = await env.DB.prepare(
      "select event_id from processed_events where consumer = ? and event_id in (select value from json_each(?))",
    )
      .bind(BLOG, JSON.stringify(events.map((e) => e.id)))
      .all<{ event_id: string }>();
    expect(marks.results.map((r) => r.event_id).sort()).toEqual([v1.id, v2.id].sort());
    // The queue's delivery skips what the pass recorded and fills the gap from the writer.
    const before = consumerStats.queue.applied;
    const { acked } = await consume([v1, v2, v3, v4]);
    expect(acked).toHaveLength(4);
    expect(await rowsOf(events)).toEqual([expect.objectContaining({ version: 4, title: "t3" })]);
    // Blog: v3 and v4 only; audit and webhooks: none (the platform's own consumer recorded all four).
    expect(consumerStats.queue.applied - before).toBe(2);
  });

  it("stores the writer's own state in one round trip, with no read and no gap to fill", async () => {
    const t = await newTenant();
    const events = await postWithHistory(t, 3);
    const reference = await rowsOf(events);
    await forget(events, BLOG);
    const inline = new InlineProjector(platform, env);
    const stream = (events[0] as Envelope).stream;
    const [, , id] = stream.split("/");
    const { version, state } = await aggregateOf(env, postDecider, t.id, String(id)).state();
    const before = consumerStats.inline.d1_round_trips;
    // Only the last event, with the writer's state after it: the row is the aggregate's, at once.
    await inline.push([events.at(-1) as Envelope], { stream, version, state });
    expect(consumerStats.inline.d1_round_trips - before).toBe(1);
    expect(await rowsOf(events)).toEqual(reference);
  });

  it("with paceMs, applies a lone commit at once and a busy writer's later commits together once the pace has passed", async () => {
    const t = await newTenant();
    const events = await postWithHistory(t, 3);
    await forget(events, BLOG);
    const time = manualTime("2026-01-01T00:00:00Z");
    const inline = new InlineProjector({ ...platform, clock: time.clock }, env, { paceMs: 10, sleeper: time.sleeper });
    const [v1, v2, v3, v4] = events as [Envelope, Envelope, Envelope, Envelope];
    const before = consumerStats.inline.passes;
    await inline.push([v1]);
    expect(consumerStats.inline.passes - before).toBe(1);
    expect(await rowsOf(events)).toEqual([expect.objectContaining({ version: 1 })]);
    // Two more commits within the pace: nothing applied until it has passed, then both in one pass.
    const second = inline.push([v2]);
    const third = inline.push([v3, v4]);
    expect(third).toBe(second);
    expect(await rowsOf(events)).toEqual([expect.objectContaining({ version: 1 })]);
    expect(consumerStats.inline.passes - before).toBe(1);
    await time.advance(10);
    await third;
    expect(consumerStats.inline.passes - before).toBe(2);
    expect(await rowsOf(events)).toEqual([expect.objectContaining({ version: 4, title: "t3" })]);
  });

  it("is shared by the aggregates of an isolate: concurrent commits to different posts go to D1 in fewer passes than posts", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: `p${i}`, content: "" } });
      ids.push(String(created.body.id));
    }
    // Past the last creation's pace, so the edits start a pass of their own.
    await new Promise((r) => setTimeout(r, 50));
    const before = consumerStats.inline.passes;
    await Promise.all(
      ids.map((id) =>
        call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: t.adminKey, body: { title: `edited ${id}` } }),
      ),
    );
    const edited = async () =>
      (
        await env.DB.prepare("select count(*) as n from blog_posts where tenant_id = ? and version = 2")
          .bind(t.id)
          .first<{ n: number }>()
      )?.n ?? 0;
    for (let i = 0; i < 200 && (await edited()) < ids.length; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await edited()).toBe(ids.length);
    // One projector per object would make a pass per post (each its first, so at once); shared, the
    // commits that land within a pass's pace ride together.
    expect(consumerStats.inline.passes - before).toBeLessThan(ids.length);
  });

  it("runs on every write through HTTP: a new post reaches the read model through it", async () => {
    const t = await newTenant();
    const before = { ...consumerStats.inline };
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "now", content: "" } });
    const id = String(created.body.id);
    let row: Row | null = null;
    for (let i = 0; i < 200 && !row; i++) {
      row = await env.DB.prepare("select version from blog_posts where tenant_id = ? and id = ?")
        .bind(t.id, id)
        .first<Row>();
      if (!row) await new Promise((r) => setTimeout(r, 5));
    }
    expect(row).toEqual({ version: 1 });
    expect(consumerStats.inline.applied - before.applied).toBeGreaterThanOrEqual(1);
  });
});
