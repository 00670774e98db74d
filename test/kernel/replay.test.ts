// Replaying the writers' events to a subscription: a backfill rebuilds what a
// new (or emptied) read model lacks, a catch-up applies only what is not
// recorded, a rebuild applies everything again; all through the batched path.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules as registered } from "../../src/modules";
import { postDecider } from "../../src/modules/blog/domain";
import { call, newTenant, rootKey } from "../identity/helpers";

type Row = Record<string, unknown>;

async function posts(tenant: { id: string; adminKey: string }, count: number): Promise<Envelope[]> {
  const events: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: `p${i}`, content: "" } });
    const id = String(created.body.id);
    await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: tenant.adminKey, body: { content: `edit ${i}` } });
    events.push(...(await aggregateOf(env, postDecider, tenant.id, id).read(1, 100)));
  }
  // Wait for the queue consumer to be done with every event: its catalog subscription runs last
  // in each batch (consume.ts routesOf) and only the queue records it in the ledger. The catalog
  // itself is no signal: the writer's inline pass fills it too, before the queue delivers, and a
  // delivery landing after a test empties a read model would apply some events before the replay.
  for (let i = 0; i < 400; i++) {
    const row = await env.DB.prepare(
      "select count(*) as n from processed_events where consumer = 'kernel:streams' and event_id in (select value from json_each(?))",
    )
      .bind(JSON.stringify(events.map((e) => e.id)))
      .first<{ n: number }>();
    if (row?.n === events.length) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the queue consumer did not catch up in 10 s");
}

/** A post and `edits` PATCHes of it: `edits + 1` events in its stream. */
async function post(tenant: { adminKey: string }, edits: number): Promise<string> {
  const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: "long", content: "" } });
  const id = String(created.body.id);
  for (let i = 0; i < edits; i++) {
    const res = await call(`/api/v1/blog/posts/${id}`, {
      method: "PATCH",
      token: tenant.adminKey,
      body: { content: `edit ${i}` },
    });
    expect(res.status).toBe(200);
  }
  return id;
}

/** Waits until the catalog holds the tenant's post streams at these versions (in stream order). */
async function catalogAt(tenantId: string, versions: number[]): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { results } = await env.DB.prepare(
      "select version from event_streams where tenant_id = ? and type = 'post' order by stream",
    )
      .bind(tenantId)
      .all<{ version: number }>();
    if (JSON.stringify(results.map((r) => r.version)) === JSON.stringify(versions)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the stream catalog did not catch up in 10 s");
}

const rows = async (tenantId: string) =>
  (
    await env.DB.prepare("select id, title, content, version from blog_posts where tenant_id = ? order by id")
      .bind(tenantId)
      .all<Row>()
  ).results;

const replay = (body: Record<string, unknown>, token = rootKey()) =>
  call("/api/v1/platform/events/replay", { token, body });

/** Follows `next` to the end; returns every page's answer. */
/**
 * Replays, through the route, the subscription `rows` of a module `name` added to the registered
 * ones, for one tenant's blog posts, its batches running `query` (meant to fail); answers the
 * status and the error lines logged meanwhile.
 */
async function replayWithFailing(name: string, query: () => Promise<unknown>, tenantId: string) {
  const module: ModuleDef = {
    name,
    version: "1.0.0",
    events: {
      subscribes: [
        {
          name: "rows",
          types: ["blog.post.created"],
          async handleBatch() {
            await query();
            return { writes: [] };
          },
        },
      ],
    },
  };
  const lines: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
  try {
    const { app } = createPlatform({ modules: [...registered, module], migrations: MIGRATIONS });
    const res = await app.request(
      "/api/v1/platform/events/replay",
      {
        method: "POST",
        headers: { authorization: `Bearer ${rootKey()}`, "content-type": "application/json" },
        body: JSON.stringify({ consumer: `${name}:rows`, tenant_id: tenantId }),
      },
      env,
    );
    return { status: res.status, lines };
  } finally {
    vi.restoreAllMocks();
  }
}

async function replayAll(body: Record<string, unknown>) {
  const pages: Row[] = [];
  let after: string | undefined;
  do {
    const res = await replay({ ...body, after });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages.push(res.body);
    after = (res.body.next as string | null) ?? undefined;
  } while (after);
  return pages;
}

describe("events replay", () => {
  it("backfills an emptied read model page by page, then a catch-up finds nothing to do", async () => {
    const t = await newTenant();
    const events = await posts(t, 5);
    const before = await rows(t.id);
    expect(before).toHaveLength(5);
    // A new projection: no rows, nothing recorded for it.
    await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();
    await env.DB.prepare(
      "delete from processed_events where consumer = 'blog:blog.posts' and event_id in (select value from json_each(?))",
    )
      .bind(JSON.stringify(events.map((e) => e.id)))
      .run();

    const pages = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, limit: 2 });
    expect(pages.map((p) => p.streams)).toEqual([2, 2, 1]);
    expect(pages.reduce((n, p) => n + Number(p.applied), 0)).toBe(events.length);
    expect(await rows(t.id)).toEqual(before);

    const again = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, limit: 50 });
    expect(again).toEqual([
      {
        consumer: "blog:blog.posts",
        source: "events",
        streams: 5,
        events: 10,
        applied: 0,
        next: null,
        unreadable: [],
        rebuild_from_state: false,
      },
    ]);
  });

  it("rebuilds rows whose events are recorded only with rebuild: true", async () => {
    const t = await newTenant();
    await posts(t, 3);
    const before = await rows(t.id);
    await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();
    const catchUp = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id });
    expect(catchUp[0]).toMatchObject({ streams: 3, applied: 0 });
    expect(await rows(t.id)).toEqual([]);
    const rebuilt = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, rebuild: true });
    expect(rebuilt[0]).toMatchObject({ streams: 3, events: 6, applied: 6 });
    expect(await rows(t.id)).toEqual(before);
  });

  it("replays a stream longer than a call's event budget over several calls, cutting inside it", async () => {
    const t = await newTenant();
    const long = await post(t, 11); // 12 events
    const short = await post(t, 1); // 2 events, after `long` in stream order (ids grow)
    await catalogAt(t.id, [12, 2]);
    const before = await rows(t.id);
    await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();

    const pages = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, rebuild: true, max_events: 5 });
    const stream = (id: string) => `${t.id}/post/${id}`;
    expect(pages).toEqual([
      {
        consumer: "blog:blog.posts",
        source: "events",
        streams: 0,
        events: 5,
        applied: 5,
        next: `5@${stream(long)}`,
        unreadable: [],
        rebuild_from_state: false,
      },
      {
        consumer: "blog:blog.posts",
        source: "events",
        streams: 0,
        events: 5,
        applied: 5,
        next: `10@${stream(long)}`,
        unreadable: [],
        rebuild_from_state: false,
      },
      // The rest of `long` (2) and all of `short` (2): the page's last stream, so done.
      {
        consumer: "blog:blog.posts",
        source: "events",
        streams: 2,
        events: 4,
        applied: 4,
        next: null,
        unreadable: [],
        rebuild_from_state: false,
      },
    ]);
    expect(await rows(t.id)).toEqual(before);

    // A cut at a stream's very end: the next call finds nothing more of it and goes on.
    const exact = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, rebuild: true, max_events: 12 });
    expect(exact.map((p) => [p.streams, p.events, p.next])).toEqual([
      [0, 12, `12@${stream(long)}`],
      [2, 2, null],
    ]);
    // The cursor of a finished stream hands over to the next stream at once.
    const handOver = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, max_events: 14, limit: 1 });
    expect(handOver.map((p) => [p.streams, p.events, p.applied, p.next])).toEqual([
      [1, 12, 0, stream(long)],
      [1, 2, 0, stream(short)],
      [0, 0, 0, null],
    ]);
  });

  it("names the event types it cannot read, and refuses what it could only do wrong", async () => {
    const t = await newTenant();
    const refused = async (body: Record<string, unknown>, path: string, detail: RegExp) => {
      const res = await replay({ tenant_id: t.id, ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ code: "validation_failed", errors: [{ path }] });
      expect(res.body.detail).toMatch(detail);
    };
    // Files are written by the file store actor, which keeps no event log: there is nothing to read ...
    await refused(
      { consumer: "files:files.files" },
      "body.consumer",
      /files\.file\.uploaded.*replay cannot read them; rebuild: true \(--rebuild\) copies it from their state/,
    );
    // ... but its stores keep their live files: a rebuild copies them (test/files/rebuild.test.ts).
    const files = await replay({ consumer: "files:files.files", tenant_id: t.id, rebuild: true });
    expect(files.body).toMatchObject({ source: "state", tenants: 1, records: 0, next: null });
    // The audit log wants every type: a catch-up reads the aggregates and names the rest ...
    const audit = await replay({ consumer: "audit:log", tenant_id: t.id });
    expect(audit.status).toBe(200);
    expect(audit.body.unreadable).toEqual(
      expect.arrayContaining(["files.file.uploaded", "identity.user.registered", "webhooks.endpoint.created"]),
    );
    expect(audit.body.unreadable).not.toContain("blog.post.created");
    // ... and a rebuild of it copies its chains instead, which hold them all (test/modules/audit-rebuild.test.ts).
    const rebuilt = await replay({ consumer: "audit:log", tenant_id: t.id, rebuild: true });
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    expect(rebuilt.body).toMatchObject({ consumer: "audit:log", source: "state", tenants: 1, next: null });
    // The webhook dispatch would queue events again at today's endpoints.
    await refused({ consumer: "webhooks:dispatch", rebuild: true }, "body.rebuild", /effects outside its read model/);
    // The mail to a tenant's admins hears only of an actor's events: nothing to read, rebuild or not.
    await refused(
      { consumer: "webhooks:notify-disabled", rebuild: true },
      "body.consumer",
      /webhooks\.endpoint\.disabled.*replay cannot read them$/,
    );
    const blog = await replay({ consumer: "blog:blog.posts", tenant_id: t.id, rebuild: true });
    expect(blog.status).toBe(200);
    expect(blog.body.unreadable).toEqual([]);
  });

  it("is the platform's: unknown subscriptions are 404, tenant keys and bad bodies are refused", async () => {
    const t = await newTenant();
    const unknown = await replay({ consumer: "blog:nothing" });
    expect(unknown.status).toBe(404);
    // A typo'd name said only "no subscription blog:nothing": the answer names the ones there are.
    expect(unknown.body.detail).toMatch(/^no subscription blog:nothing; there are: /);
    for (const name of ["audit:log", "blog:blog.posts", "files:files.files"])
      expect(unknown.body.detail).toContain(name);
    expect((await replay({ consumer: "blog:blog.posts" }, t.adminKey)).status).toBe(403);
    expect((await replay({ consumer: "no colon" })).status).toBe(400);
    expect((await replay({ consumer: "blog:blog.posts", limit: 0 })).status).toBe(400);
    expect((await replay({ consumer: "blog:blog.posts", max_events: 0 })).status).toBe(400);
    expect((await replay({ consumer: "blog:blog.posts", max_events: 5001 })).status).toBe(400);
  });

  it("an `after` that is no `next` a replay answered is 400, not a replay of nothing reported as done", async () => {
    // `--after garbage` (or a cursor cut when copied) walked the catalog from "garbage" on and said "done".
    for (const after of ["garbage", "12@", "x@tenant/post", "tenant/post"]) {
      const res = await replay({ consumer: "blog:blog.posts", after });
      expect(res.status, after).toBe(400);
      expect(JSON.stringify(res.body)).toContain("body.after");
    }
    const t = await newTenant();
    // Scoped to the test's tenant: unscoped, the call walks every stream after the cursor in the
    // files' shared catalog, and another file's may not replay (aggregate.test.ts leaves a post
    // whose stored event its schema no longer reads: a 500 here in a run where it came first).
    const [event] = await posts(t, 1);
    for (const after of [event?.stream, `1@${event?.stream}`]) {
      const res = await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after });
      expect(res.status, `${after}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    // Well formed, but no stream the catalog holds (replay-cursor-bounds.test.ts): refused too.
    const unknown = await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after: `${t.id}/post/01ABC` });
    expect(unknown.status).toBe(400);
    // A rebuild from state answers tenant cursors, a replay of events stream ones: neither takes the other's.
    for (const after of [t.id, `3@${t.id}`]) {
      const res = await replay({ consumer: "blog:blog.posts", after });
      expect(res.status, after).toBe(400);
      expect(JSON.stringify(res.body)).toContain("body.after");
    }
    const streamCursor = await replay({ consumer: "audit:log", rebuild: true, after: `${t.id}/post/01ABC` });
    expect(streamCursor.status).toBe(400);
    expect(JSON.stringify(streamCursor.body)).toContain("body.after");
  });

  it("a call whose subscription fails on a missing read-model table logs the table and the fix", async () => {
    // The call answered 500 and its log said only "replay of …: 1 events failed, first …": the driver's
    // error was flattened into a string, so the edge could not tell a missing table (apply the migrations).
    const t = await newTenant();
    await posts(t, 1);
    const { status, lines } = await replayWithFailing(
      "ghost",
      () => env.DB.prepare("select id from replay_ghost_rows").all(),
      t.id,
    );
    // Every shipped migration is applied, so the table is the operator's to restore (edge.ts).
    expect(status).toBe(503);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg !== "request");
    expect(logged.map((l) => [l.msg, l.table])).toEqual([
      ["read-model table missing although its migrations are applied", "replay_ghost_rows"],
    ]);
  });

  it("a call whose subscription's query fails logs the statement, never the values bound to it", async () => {
    // The wrapper's message quoted the first failure as String(error): drizzle's "Failed query: …\nparams: <every
    // value>", so a read-model row's data (an address, a URL with its token) reached the log past errorFields.
    const t = await newTenant();
    await posts(t, 1);
    const bound = `replay-secret-${crypto.randomUUID()}`;
    // Not JSON: SQLite refuses it, a failure of the query itself (not a missing table).
    const { status, lines } = await replayWithFailing(
      "failing",
      () => drizzle(env.DB).run(sql`select json(${bound}) as j`),
      t.id,
    );
    expect(status).toBe(500);
    const logged = lines.join("\n");
    expect(logged).toContain("unhandled error");
    expect(logged).toContain("select json(?) as j");
    expect(logged).not.toContain(bound);
  });

  it("writes nothing for a tenant being deleted: what it would write, the erasure's tables step has deleted or is to delete", async () => {
    // A replay call in flight across the erasure would write the tenant's rows after its tables
    // step, where only the later sweep of erased tenants would find them.
    const t = await newTenant();
    const events = await posts(t, 2);
    const deleted = await call(`/api/v1/platform/tenants/${t.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    // Deleted "a day from now": other files' tests run tenants/erase-deleted over the same D1.
    await env.DB.prepare("update tenants set deleted_at = ? where id = ?")
      .bind(new Date(Date.now() + 86_400_000).toISOString(), t.id)
      .run();
    await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();

    const pages = await replayAll({ consumer: "blog:blog.posts", tenant_id: t.id, rebuild: true });
    expect(pages.reduce((n, p) => n + Number(p.events), 0)).toBe(events.length);
    expect(pages.reduce((n, p) => n + Number(p.applied), 0)).toBe(0);
    expect(await rows(t.id)).toEqual([]);
  });

  it("a tenant_id no tenant has is 404, not an empty replay reported as done", async () => {
    // `plinth events replay … --tenant <typo>` printed "0 streams … done" and exited 0.
    const unknown = await replay({ consumer: "blog:blog.posts", tenant_id: "01NOSUCHTENANT0000000000000" });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "not_found", detail: 'no tenant has id "01NOSUCHTENANT0000000000000"' });
    const t = await newTenant();
    const known = await replay({ consumer: "blog:blog.posts", tenant_id: t.id });
    expect(known.status).toBe(200);
    expect(known.body).toMatchObject({ streams: 0, next: null });
    // The slug where the id goes (`--tenant acme`): the 404 names the id to use.
    const slug = await replay({ consumer: "blog:blog.posts", tenant_id: t.slug });
    expect(slug.status).toBe(404);
    expect(slug.body.detail).toBe(
      `no tenant has id "${t.slug}": that is the slug of tenant ${t.id}; tenant_id takes the id`,
    );
  });
});
