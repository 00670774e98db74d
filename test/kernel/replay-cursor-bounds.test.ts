// A replay's `after` may name a place inside a stream (`<version>@<stream>`) or inside a tenant
// (`<position>@<tenant>`, a rebuild from state). The route took any run of digits there, but the
// objects read from it (Aggregate.read's fromVersion, AuditLog.entries' fromSeq) take only safe
// integers: a position past them made the object refuse the call, and the operator got a 500
// instead of a 400 naming body.after.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

const replay = (body: Record<string, unknown>) => call("/api/v1/platform/events/replay", { token: rootKey(), body });

/** A post of the tenant, once the stream catalog lists it: its stream. */
async function postStream(tenant: { id: string; adminKey: string }): Promise<string> {
  const created = await call("/api/v1/blog/posts", { token: tenant.adminKey, body: { title: "t", content: "" } });
  expect(created.status).toBe(201);
  const stream = `${tenant.id}/post/${String(created.body.id)}`;
  for (let i = 0; i < 400; i++) {
    const row = await env.DB.prepare("select 1 as n from event_streams where stream = ?").bind(stream).first();
    if (row) return stream;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the stream catalog did not list the post in 10 s");
}

function expectAfterRefused(res: { status: number; body: Record<string, unknown> }) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.code).toBe("validation_failed");
  expect(JSON.stringify(res.body.errors)).toContain("body.after");
}

describe("replay cursor positions past what the objects read", () => {
  it("refuses a version inside a stream past the safe integers with 400 naming body.after", async () => {
    const t = await newTenant("replay-bound");
    const stream = await postStream(t);
    expectAfterRefused(
      await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after: `99999999999999999999@${stream}` }),
    );
    // The last version whose successor is still a safe integer: read, past the stream's end.
    expectAfterRefused(
      await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after: `${Number.MAX_SAFE_INTEGER}@${stream}` }),
    );
    const edge = await replay({
      consumer: "blog:blog.posts",
      tenant_id: t.id,
      after: `${Number.MAX_SAFE_INTEGER - 1}@${stream}`,
    });
    expect(edge.status, JSON.stringify(edge.body)).toBe(200);
    expect(edge.body.events).toBe(0);
  });

  it("refuses a position inside a tenant past the safe integers in a rebuild from state", async () => {
    const t = await newTenant("replay-bound");
    const body = { consumer: "audit:log", rebuild: true, tenant_id: t.id };
    expectAfterRefused(await replay({ ...body, after: `99999999999999999999@${t.id}` }));
    expectAfterRefused(await replay({ ...body, after: `${Number.MAX_SAFE_INTEGER}@${t.id}` }));
    const edge = await replay({ ...body, after: `${Number.MAX_SAFE_INTEGER - 1}@${t.id}` });
    expect(edge.status, JSON.stringify(edge.body)).toBe(200);
    expect(edge.body.records).toBe(0);
  });
});

describe("a replay of one tenant's events given another tenant's stream cursor", () => {
  it("is refused at body.after, as a rebuild from state refuses another tenant's cursor, not done with nothing", async () => {
    // `plinth events replay blog:blog.posts --tenant A --after <B's stream>` said "done" after 0
    // events, exit 0: the walk went on from B's stream, inside no stream of A's.
    const a = await newTenant("replay-other");
    const b = await newTenant("replay-other");
    const stream = await postStream(b);
    for (const after of [stream, `1@${stream}`]) {
      const res = await replay({ consumer: "blog:blog.posts", tenant_id: a.id, after });
      expectAfterRefused(res);
      expect(String(res.body.detail)).toContain("another tenant's");
    }
    // B's own cursor, with B named, still goes on.
    const own = await replay({ consumer: "blog:blog.posts", tenant_id: b.id, after: `1@${stream}` });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
  });
});

describe("a replay cursor naming a stream the catalog does not hold", () => {
  it("is refused at body.after naming the cursor, not walked on from where it sorts and reported done", async () => {
    // `plinth events replay blog:blog.posts --tenant T --after T/post/NOSUCH` (a mistyped stream
    // id) said "0 streams … done", exit 0; `T/post/0` replayed every stream of T instead.
    const t = await newTenant("replay-nosuch");
    const stream = await postStream(t);
    for (const after of [`${t.id}/post/NOSUCH`, `3@${t.id}/post/NOSUCH`, `${t.id}/post/0`]) {
      const res = await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after });
      expectAfterRefused(res);
      expect(String(res.body.detail)).toContain(after.replace(/^\d+@/, ""));
    }
    // Unscoped, the same: refused before any stream is read.
    expectAfterRefused(await replay({ consumer: "blog:blog.posts", after: `${t.id}/post/NOSUCH` }));
    // The stream a replay answered goes on from it.
    for (const after of [stream, `1@${stream}`]) {
      const res = await replay({ consumer: "blog:blog.posts", tenant_id: t.id, after });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it("takes the stream of a tenant being deleted, whose catalog rows its erasure removes between two calls", async () => {
    const t = await newTenant("replay-gone");
    const stream = await postStream(t);
    const deleted = await call(`/api/v1/platform/tenants/${t.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    // Deleted "a day from now": other files' tests run tenants/erase-deleted over the same D1.
    await env.DB.prepare("update tenants set deleted_at = ? where id = ?")
      .bind(new Date(Date.now() + 86_400_000).toISOString(), t.id)
      .run();
    // What the erasure's tables step does to the catalog.
    await env.DB.prepare("delete from event_streams where tenant_id = ?").bind(t.id).run();
    // Unscoped, as a run over every tenant holds it: the walk goes on after it (what follows is
    // other files' streams, so only the refusal is asserted absent).
    const res = await replay({ consumer: "blog:blog.posts", after: stream, limit: 1, max_events: 1 });
    expect(JSON.stringify(res.body)).not.toContain("body.after");
  });
});
