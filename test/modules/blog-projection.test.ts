import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Aggregate } from "../../src/index";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { stateProjection } from "../../src/kernel/events/projection";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { postDecider } from "../../src/modules/blog/domain";
import { postProjection, postRows } from "../../src/modules/blog/projection";
import { deliver, testRuntime } from "../helpers";
import { call, newTenant, rootKey } from "../identity/helpers";

const runtime = testRuntime();
/**
 * Delivers one event to the projection, as the queue consumer does, applied even when the ledger
 * recorded it: the projection's own guard is under test (a rebuild, and a catch-up of events older
 * than the ledger's retention, reach it with events it applied), not the ledger's claim.
 */
const project = (e: Envelope, projection = postProjection) =>
  deliver(projection, [e], runtime, { fillGaps: true, reapply: true });

type Row = { title: string; content: string; status: string; version: number; author_id: string };

/** Writes a post through HTTP and returns its stored events, read from its Aggregate. */
async function postWithHistory(tenant: { id: string; adminKey: string }) {
  const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: "t0", content: "c0" } });
  const id = created.body.id as string;
  for (const body of [{ title: "t1" }, { content: "c2" }, { title: "t3", content: "c3" }]) {
    await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: tenant.adminKey, body });
  }
  await call(`/api/v1/blog/posts/${id}/publish`, { method: "POST", token: tenant.adminKey });
  const events = await aggregateOf(env, postDecider, tenant.id, id).read(1, 1000);
  await consumed(events);
  return { id, events };
}

/**
 * Waits until the Worker's own queue consumer has handled every one of `events`: the
 * tests below replay them by hand, and a late real delivery would change the row under them.
 */
async function consumed(events: Envelope[]): Promise<void> {
  const ids = events.map((e) => e.id);
  const marks = ids.map(() => "?").join(", ");
  for (let i = 0; i < 400; i++) {
    const row = await env.DB.prepare(
      `select count(distinct event_id) as n from processed_events where consumer = 'blog:blog.posts' and event_id in (${marks})`,
    )
      .bind(...ids)
      .first<{ n: number }>();
    if (row?.n === ids.length) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the queue consumer did not handle the post's events in 10 s");
}

async function readRow(tenantId: string, id: string): Promise<Row | null> {
  return env.DB.prepare(
    "select title, content, status, version, author_id from blog_posts where tenant_id = ? and id = ?",
  )
    .bind(tenantId, id)
    .first<Row>();
}

async function clearRow(tenantId: string, id: string) {
  await env.DB.prepare("delete from blog_posts where tenant_id = ? and id = ?").bind(tenantId, id).run();
}

describe("post projection", () => {
  afterEach(() => vi.restoreAllMocks());

  it("builds the same row from any order of duplicated deliveries (fast-check)", async () => {
    const t = await newTenant();
    const { id, events } = await postWithHistory(t);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    // The row the in-order, once-only delivery builds.
    await clearRow(t.id, id);
    for (const e of events) await project(e);
    const expected = await readRow(t.id, id);
    expect(expected).toMatchObject({ title: "t3", content: "c3", status: "published", version: 5 });

    const deliveries = fc
      .array(fc.integer({ min: 0, max: events.length - 1 }), { minLength: 1, maxLength: 15 })
      .map((idx) => idx.flatMap((i) => events[i] ?? []));
    await fc.assert(
      fc.asyncProperty(deliveries, async (delivered) => {
        await clearRow(t.id, id);
        for (const e of delivered) await project(e);
        // Whatever arrived, the row is a prefix of history up to the newest delivered version...
        const newest = Math.max(...delivered.map((e) => e.version));
        const row = await readRow(t.id, id);
        expect(row?.version).toBe(newest);
        // ...and once the rest arrives (in any order), it is exactly the in-order row.
        for (const e of [...events].reverse()) await project(e);
        expect(await readRow(t.id, id)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it("fills a gap from the aggregate: only the last event delivered still yields the full row", async () => {
    const t = await newTenant();
    const { id, events } = await postWithHistory(t);
    await clearRow(t.id, id);
    const last = events.at(-1);
    if (!last) throw new Error("no events");
    await project(last);
    const row = await readRow(t.id, id);
    expect(row).toMatchObject({ title: "t3", content: "c3", status: "published", version: 5 });
    // A repeat changes nothing.
    await project(last);
    expect(await readRow(t.id, id)).toEqual(row);
  });

  it("fills a gap longer than one page of the writer's events, page by page", async () => {
    const t = await newTenant();
    const { id, events } = await postWithHistory(t);
    await clearRow(t.id, id);
    const last = events.at(-1);
    if (!last) throw new Error("no events");
    // Pages of 2: versions 1-2, 3-4, then 5; stopping after one page would leave version 2.
    await project(last, stateProjection("blog.posts", postDecider, postRows, { pageSize: 2 }));
    expect(await readRow(t.id, id)).toMatchObject({ title: "t3", status: "published", version: 5 });
  });

  it("refuses (so the message retries) an event whose predecessors its writer does not have", async () => {
    const t = await newTenant();
    const { id, events } = await postWithHistory(t);
    await clearRow(t.id, id);
    const last = events.at(-1);
    if (!last) throw new Error("no events");
    const ahead = { ...last, id: `${last.id}-ahead`, version: last.version + 3 };
    await expect(project(ahead)).rejects.toThrow(/has no version 6 at its writer/);
    // All or nothing: the delivery failed, so not even what the writer had was written.
    expect(await readRow(t.id, id)).toBeNull();
  });
});

/** A post written, edited, then deleted through HTTP: its events (created, updated, deleted), consumed. */
async function deletedPost(tenant: { id: string; adminKey: string }) {
  const created = await call("/api/v1/blog/posts", {
    token: tenant.adminKey,
    body: { title: "secret title", content: "secret text" },
  });
  const id = created.body.id as string;
  await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: tenant.adminKey, body: { content: "edited text" } });
  const gone = await call(`/api/v1/blog/posts/${id}`, { method: "DELETE", token: tenant.adminKey });
  expect(gone.status).toBe(204);
  const events = await aggregateOf(env, postDecider, tenant.id, id).read(1, 1000);
  expect(events.map((e) => e.type)).toEqual(["blog.post.created", "blog.post.updated", "blog.post.deleted"]);
  await consumed(events);
  return { id, events, deletion: events[2] as Envelope, update: events[1] as Envelope };
}

/** The tombstone as the export and the 404 read it. */
const tombstone = (tenantId: string, id: string) =>
  env.DB.prepare("select title, content, status, version, updated_at from blog_posts where tenant_id = ? and id = ?")
    .bind(tenantId, id)
    .first<Row & { updated_at: string }>();

/** A deleted post's row as the projection leaves it: no title or text, at version 3, dated `at`. */
const blankAt = (at: string) => ({ title: "", content: "", status: "deleted", version: 3, updated_at: at });

describe("a deleted post's tombstone", () => {
  it("keeps no title or text, and is dated by the deletion", async () => {
    const t = await newTenant();
    const { id, deletion } = await deletedPost(t);
    expect(await tombstone(t.id, id)).toEqual(blankAt(deletion.occurred_at));
    expect((await call(`/api/v1/blog/posts/${id}`, { token: t.adminKey })).status).toBe(404);
  });

  it("stays blank when an older update arrives after the deletion, and on repeats", async () => {
    const t = await newTenant();
    const { id, deletion, update } = await deletedPost(t);
    await clearRow(t.id, id);
    await project(deletion);
    await project(update);
    await project(deletion);
    expect(await tombstone(t.id, id)).toEqual(blankAt(deletion.occurred_at));
  });

  it("is the same after a rebuild, a deletion stored before it carried its time included", async () => {
    const t = await newTenant();
    const { id, events, deletion } = await deletedPost(t);
    const live = await tombstone(t.id, id);
    await clearRow(t.id, id);
    for (const e of events) await project(e);
    expect(await tombstone(t.id, id)).toEqual(live);
    // A deletion recorded with empty data (before deleted_at): its envelope's time dates the tombstone.
    await clearRow(t.id, id);
    const older = { ...deletion, occurred_at: "2026-01-02T03:04:05.000Z", data: {} };
    for (const e of [...events.slice(0, 2), older]) await project(e);
    expect(await tombstone(t.id, id)).toEqual({ ...live, updated_at: "2026-01-02T03:04:05.000Z" });
  });
});

describe("aggregate outbox", () => {
  it("events and outbox rows commit together: a failing outbox write leaves neither", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "atomic", content: "" } });
    const id = created.body.id as string;
    const stub = env.AGGREGATE.getByName(`${t.id}/post/${id}`);
    await runInDurableObject(stub, (_: Aggregate, state) => {
      state.storage.sql.exec("alter table outbox rename to outbox_broken");
    });
    const failed = await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: t.adminKey, body: { title: "x" } });
    expect(failed.status).toBe(500);
    const events = await runInDurableObject(stub, (_: Aggregate, state) =>
      state.storage.sql.exec<{ n: number }>("select count(*) as n from events").one(),
    );
    expect(events.n).toBe(1);
    await runInDurableObject(stub, (_: Aggregate, state) => {
      state.storage.sql.exec("alter table outbox_broken rename to outbox");
    });
    const strong = await call(`/api/v1/blog/posts/${id}?consistency=strong`, { token: t.adminKey });
    expect(strong.body).toMatchObject({ title: "atomic", version: 1 });
    const retried = await call(`/api/v1/blog/posts/${id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { title: "x" },
    });
    expect(retried.body).toMatchObject({ title: "x", version: 2 });
  });
});

describe("dead letters", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a poison message lands in dead letters, is listed for its tenant, and replays", async () => {
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const t = await newTenant();
    const other = await newTenant();
    const poison = {
      id: "evt-poison-1",
      type: "blog.post.updated",
      tenant_id: t.id,
      stream: "not-a-stream",
      version: 1,
      data: {},
    };
    // What the queue does after max_retries: deliver it to the dead-letter queue's consumer.
    const batch = createMessageBatch("plinth-events-dlq", [
      { id: "msg-poison-1", timestamp: new Date(), attempts: 6, body: poison },
    ]);
    const ctx = createExecutionContext();
    await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock: systemClock })(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["msg-poison-1"]);
    // Its line names the event and its tenant, as every line of a queue message does
    // (docs/observability.md, "Logs"); it named the message id alone.
    const stored = warned.mock.calls
      .map(([line]) => JSON.parse(String(line)))
      .find((l) => l.msg === "dead letter stored");
    expect(stored).toMatchObject({
      queue: "plinth-events-dlq",
      message_id: "msg-poison-1",
      event_id: "evt-poison-1",
      event_type: "blog.post.updated",
      tenant_id: t.id,
    });

    const listed = await call("/api/v1/admin/dead-letters", { token: t.adminKey });
    expect(listed.status).toBe(200);
    const items = listed.body.items as { id: string; event: unknown; reason: string; replayed_at: string | null }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ event: poison, reason: "retries exhausted", replayed_at: null });
    expect(((await call("/api/v1/admin/dead-letters", { token: other.adminKey })).body.items as unknown[]).length).toBe(
      0,
    );

    const id = items[0]?.id ?? "";
    expect(
      (await call(`/api/v1/admin/dead-letters/${id}/replay`, { method: "POST", token: other.adminKey })).status,
    ).toBe(404);
    const replayed = await call(`/api/v1/admin/dead-letters/${id}/replay`, { method: "POST", token: t.adminKey });
    expect(replayed.status).toBe(202);
    const after = await call("/api/v1/admin/dead-letters", { token: t.adminKey });
    expect((after.body.items as { replayed_at: string | null }[])[0]?.replayed_at).not.toBeNull();
  });

  it("the platform operator lists every tenant's letters with whose each is, and replays one, with the root key", async () => {
    // The hourly report says whose letters wait; without these the operator needed each tenant's own key.
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const [a, b] = [await newTenant(), await newTenant()];
    const poison = (tenant: string, n: number) => ({
      id: `evt-platform-poison-${n}`,
      type: "blog.post.updated",
      tenant_id: tenant,
      stream: "not-a-stream",
      version: 1,
      data: {},
    });
    const batch = createMessageBatch("plinth-events-dlq", [
      { id: "msg-platform-poison-1", timestamp: new Date(), attempts: 6, body: poison(a.id, 1) },
      { id: "msg-platform-poison-2", timestamp: new Date(), attempts: 6, body: poison(b.id, 2) },
    ]);
    const ctx = createExecutionContext();
    await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock: systemClock })(batch, env, ctx);
    await getQueueResult(batch, ctx);

    const root = { token: rootKey() };
    const ofA = await call(`/api/v1/platform/events/dead-letters?tenant_id=${a.id}&pending=true`, root);
    expect(ofA.status).toBe(200);
    expect(ofA.body.items).toEqual([
      expect.objectContaining({
        tenant_id: a.id,
        event: poison(a.id, 1),
        reason: "retries exhausted",
        replayed_at: null,
      }),
    ]);
    const all = await call("/api/v1/platform/events/dead-letters?limit=100", root);
    const tenants = (all.body.items as { tenant_id: string }[]).map((d) => d.tenant_id);
    expect(tenants).toEqual(expect.arrayContaining([a.id, b.id]));

    const id = (ofA.body.items as { id: string }[])[0]?.id ?? "";
    expect((await call(`/api/v1/platform/events/dead-letters/${id}/replay`, { ...root, method: "POST" })).status).toBe(
      202,
    );
    // The replayed letter is pending no more. Its event is still poison: once the queue delivers the
    // replay, it fails again into a letter of its own (found under load in a shuffled run), which is pending.
    const pending = await call(`/api/v1/platform/events/dead-letters?tenant_id=${a.id}&pending=true`, root);
    const still = pending.body.items as { id: string; event: unknown }[];
    expect(still.map((d) => d.id)).not.toContain(id);
    for (const letter of still) expect(letter.event).toEqual(poison(a.id, 1));
    const missing = await call("/api/v1/platform/events/dead-letters/01NOSUCHLETTER000000000000/replay", {
      ...root,
      method: "POST",
    });
    expect(missing.status).toBe(404);
    // A tenant's key reaches neither.
    expect((await call("/api/v1/platform/events/dead-letters", { token: a.adminKey })).status).toBe(403);
  });

  it("needs admin.events.read and admin.events.write", async () => {
    const t = await newTenant();
    const reader = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "r", scopes: ["admin.events.read"] },
    });
    const key = reader.body.key as string;
    expect((await call("/api/v1/admin/dead-letters", { token: key })).status).toBe(200);
    const denied = await call("/api/v1/admin/dead-letters/x/replay", { method: "POST", token: key });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toBe("missing permission admin.events.write");
  });
});
