import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { webhookRegistryObject } from "../../durable-objects/webhook-registry";
import { systemClock } from "../../src/kernel/clock";
import type { Envelope } from "../../src/kernel/events/envelope";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { PostEventSchema } from "../../src/modules/blog/domain";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { heldBackTypes, readRulesOf } from "../../src/modules/webhooks/reads";
import { testApp } from "../helpers";
import { call, callerOf, newKey, newTenant } from "../identity/helpers";

// An endpoint's filters are checked against the event types published when they are written.
// A prefix filter then matched whatever a later deploy published under it: `blog.*`, written by
// a key that read posts only, received the comments a later blog module published under a rule
// of their own (`blog.comment.*` → `blog.comment.read`), which that key could never read.

const WRITE = "admin.webhooks.write";
const POSTS = "blog.post.read";
const COMMENTS = "blog.comment.read";

/** The later deploy: the blog module also publishes comments, read with a permission of their own. */
function withComments(defs: readonly ModuleDef[]): ModuleDef[] {
  return defs.map((def) =>
    def.name !== "blog"
      ? def
      : {
          ...def,
          permissions: [...(def.permissions ?? []), COMMENTS],
          event_read: { ...def.event_read, "blog.comment.*": COMMENTS },
          events: {
            ...def.events,
            publishes: z.discriminatedUnion("type", [
              ...PostEventSchema.options,
              z.object({ type: z.literal("blog.comment.created"), data: z.object({ id: z.string() }) }),
            ]),
          },
        },
  );
}
const laterModules = withComments(modules);
const later = callerOf((path, init) => testApp(laterModules).fetch(path, init));

/** The registry as each deploy builds it (src/index.ts), over the object's own storage. */
const Today = webhookRegistryObject({ clock: systemClock, modules });
const Later = webhookRegistryObject({ clock: systemClock, modules: laterModules });

let seq = 0;
/** An event of the tenant's, occurring now (after the endpoints it is meant for were written). */
function event(tenantId: string, type: string): Envelope {
  const id = `evt_deploy_${Date.now().toString(36)}_${++seq}`;
  return {
    id,
    type,
    tenant_id: tenantId,
    stream: `${tenantId}/blog.post/${id}`,
    version: 1,
    occurred_at: new Date(Date.now() + 1).toISOString(),
    actor: { kind: "system", id: null },
    request_id: null,
    data: { id },
  };
}

/** Routes `events` through the tenant's registry as the deploy `Registry` runs it. */
function dispatchAs(Registry: typeof Today, tenantId: string, events: Envelope[]) {
  return runInDurableObject(env.WEBHOOK_REGISTRY.getByName(tenantId), (_, state) =>
    new Registry(state, env).dispatch({ events }),
  );
}

/** The event types queued or delivered at an endpoint, in the order it received them. */
async function received(tenantId: string, endpointId: string): Promise<string[]> {
  const page = await endpointActor(env, tenantId, endpointId).deliveries({ limit: 100, cursor: null });
  return page.items.map((d) => d.event_type).reverse();
}

/** Creates a `blog.*` endpoint with `token` through `caller` (the deploy whose rules check it). */
async function blogEndpoint(caller: typeof call, token: string): Promise<string> {
  const res = await caller("/api/v1/admin/webhooks", {
    token,
    body: { url: "https://hooks.example.com/in", events: ["blog.*"] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** The `reads` column of an endpoint's row in its registry. */
function storedReads(tenantId: string, endpointId: string) {
  return runInDurableObject(env.WEBHOOK_REGISTRY.getByName(tenantId), (_, state) =>
    state.storage.sql.exec<{ reads: string | null }>("select reads from endpoints where id = ?", endpointId).one(),
  );
}

describe("webhook endpoints receive only the event types their filters were checked for", () => {
  it("holds back a type a later deploy rules with a permission the endpoint's writer was not checked for", async () => {
    const t = await newTenant("deploys");
    const posts = await newKey(t.adminKey, [WRITE, POSTS]);
    // Written before the deploy that adds comments: `blog.*` needed blog.post.read only.
    const before = await blogEndpoint(call, posts.key);
    const post = event(t.id, "blog.post.created");
    expect(await dispatchAs(Today, t.id, [post])).toMatchObject({ routed: 1 });
    expect(await received(t.id, before)).toEqual(["blog.post.created"]);

    // After it: a key holding both writes the same filter; the posts-only key may not any more.
    const both = await later("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "both", scopes: [WRITE, POSTS, COMMENTS] },
    });
    expect(both.status, JSON.stringify(both.body)).toBe(201);
    const after = await blogEndpoint(later, both.body.key as string);
    const refused = await later("/api/v1/admin/webhooks", {
      token: posts.key,
      body: { url: "https://hooks.example.com/in", events: ["blog.*"] },
    });
    expect(refused.status).toBe(403);

    const comment = event(t.id, "blog.comment.created");
    const next = event(t.id, "blog.post.updated");
    expect(await dispatchAs(Later, t.id, [comment, next])).toEqual({ routed: 3, held_back: 1 });
    // The posts keep coming to the endpoint written before; the comments go only where they were checked.
    expect(await received(t.id, before)).toEqual(["blog.post.created", "blog.post.updated"]);
    expect(await received(t.id, after)).toEqual(["blog.comment.created", "blog.post.updated"]);
  });

  it("keeps what a narrower key's read-modify-write sends back, and widens with a key that reads more", async () => {
    const t = await newTenant("deploys-rmw");
    const posts = await newKey(t.adminKey, [WRITE, POSTS]);
    const both = await later("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "both", scopes: [WRITE, POSTS, COMMENTS] },
    });
    expect(both.status).toBe(201);
    const wide = await blogEndpoint(later, both.body.key as string);
    const narrow = await blogEndpoint(call, posts.key);
    const patch = (token: string, id: string) =>
      later(`/api/v1/admin/webhooks/${id}`, {
        method: "PATCH",
        token,
        body: { events: ["blog.*", "blog.post.created"] },
      });
    // The posts-only key sends `blog.*` back with a filter it reads: the endpoint keeps its comments.
    expect((await patch(posts.key, wide)).status).toBe(200);
    // The key reading both writes the posts-only endpoint's filters: checked for comments now.
    expect((await patch(both.body.key as string, narrow)).status).toBe(200);

    expect(await dispatchAs(Later, t.id, [event(t.id, "blog.comment.created")])).toEqual({
      routed: 2,
      held_back: 0,
    });
    expect(await received(t.id, wide)).toEqual(["blog.comment.created"]);
    expect(await received(t.id, narrow)).toEqual(["blog.comment.created"]);
  });

  it("shows admins what each endpoint was checked for, and the types it is held back under the deploy answering", async () => {
    const t = await newTenant("deploys-shown");
    const posts = await newKey(t.adminKey, [WRITE, POSTS]);
    const both = await later("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "both", scopes: [WRITE, POSTS, COMMENTS] },
    });
    expect(both.status).toBe(201);
    // Written before the comments' deploy by a key that reads posts: the create answers what it was checked for.
    const created = await call("/api/v1/admin/webhooks", {
      token: posts.key,
      body: { url: "https://hooks.example.com/in", events: ["blog.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ checked_reads: [POSTS], held_back_types: [] });
    const narrow = created.body.id as string;
    const wide = await blogEndpoint(later, both.body.key as string);

    // Under the later deploy the comments are published: the posts-only endpoint is held back them.
    const one = (id: string) => later(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey });
    expect((await one(narrow)).body).toMatchObject({
      checked_reads: [POSTS],
      held_back_types: ["blog.comment.created"],
    });
    expect((await one(wide)).body).toMatchObject({ checked_reads: [COMMENTS, POSTS], held_back_types: [] });
    const list = await later("/api/v1/admin/webhooks", { token: t.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: wide, checked_reads: [COMMENTS, POSTS], held_back_types: [] }),
      expect.objectContaining({ id: narrow, checked_reads: [POSTS], held_back_types: ["blog.comment.created"] }),
    ]);

    // A PATCH that leaves the filters answers what they were checked for, unchanged; one by the
    // key reading both records the comments, and nothing is held back any more.
    const described = await later(`/api/v1/admin/webhooks/${narrow}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { description: "posts" },
    });
    expect(described.body).toMatchObject({ checked_reads: [POSTS], held_back_types: ["blog.comment.created"] });
    const widened = await later(`/api/v1/admin/webhooks/${narrow}`, {
      method: "PATCH",
      token: both.body.key as string,
      body: { events: ["blog.*"] },
    });
    expect(widened.status, JSON.stringify(widened.body)).toBe(200);
    expect(widened.body).toMatchObject({ checked_reads: [COMMENTS, POSTS], held_back_types: [] });

    // One stored before reads were recorded, and not dispatched to since, has no record: it is
    // taken as checked for what its filters need at its first dispatch, so nothing is held back.
    // (Read by a registry of its own in the same turn: the tenant's events dispatched meanwhile would record it.)
    const unrecorded = await runInDurableObject(env.WEBHOOK_REGISTRY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update endpoints set reads = null where id = ?", wide);
      return new Later(state, env).get({ id: wide });
    });
    expect(unrecorded?.endpoint).toMatchObject({ id: wide, checked_reads: null });
    expect(heldBackTypes(["blog.*"], null, readRulesOf(laterModules))).toEqual([]);
  });

  it("records an endpoint written before reads were recorded at its first dispatch, under the rules of then", async () => {
    const t = await newTenant("deploys-old");
    const posts = await newKey(t.adminKey, [WRITE, POSTS]);
    const old = await blogEndpoint(call, posts.key);
    const oldest = await blogEndpoint(call, posts.key);
    /** Its row as stored before this change: no record of what its filters were checked for. */
    const unrecorded = (id: string) =>
      runInDurableObject(env.WEBHOOK_REGISTRY.getByName(t.id), (_, state) => {
        state.storage.sql.exec("update endpoints set reads = null where id = ?", id);
      });

    // The first dispatch after the deploy that records reads: `old` keeps what its filter matched.
    await unrecorded(old);
    expect(await dispatchAs(Today, t.id, [event(t.id, "blog.post.created")])).toEqual({
      routed: 2,
      held_back: 0,
    });
    expect(await storedReads(t.id, old)).toEqual({ reads: JSON.stringify([POSTS]) });

    // One whose first dispatch comes after the comments' deploy (both deployed at once, say) is
    // recorded under the rules of then: it keeps what its filter matches at that time.
    await unrecorded(oldest);
    expect(await dispatchAs(Later, t.id, [event(t.id, "blog.comment.created")])).toEqual({
      routed: 1,
      held_back: 1,
    });
    expect(await received(t.id, old)).toEqual(["blog.post.created"]);
    expect(await received(t.id, oldest)).toEqual(["blog.post.created", "blog.comment.created"]);
    expect(await storedReads(t.id, oldest)).toEqual({ reads: JSON.stringify([COMMENTS, POSTS]) });
  });

  it("records an endpoint written before reads were recorded, rewritten before its first dispatch, under the rules of the rewriting deploy", async () => {
    const t = await newTenant("deploys-rewritten");
    const posts = await newKey(t.adminKey, [WRITE, POSTS]);
    const old = await blogEndpoint(call, posts.key);
    const recorded = await blogEndpoint(call, posts.key);
    // `old`'s row as stored before reads were recorded; `recorded` was checked for posts only.
    await runInDurableObject(env.WEBHOOK_REGISTRY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update endpoints set reads = null where id = ?", old);
    });
    // Under the comments' deploy, the posts-only key rewrites both filters, sending `blog.*` back as it
    // was: the route asks the registry (of the same deploy, here built as it) to keep what the key
    // holds or the endpoint was checked for before.
    const rewrite = (id: string) =>
      runInDurableObject(env.WEBHOOK_REGISTRY.getByName(t.id), (_, state) =>
        new Later(state, env).update({
          ctx: { now: new Date().toISOString(), actor: { kind: "system", id: null }, requestId: null },
          tenant_id: t.id,
          id,
          patch: { events: ["blog.*", "blog.post.created"], reads: { needed: [COMMENTS, POSTS], granted: [POSTS] } },
        }),
      );
    expect(await rewrite(old)).toMatchObject({ ok: true });
    expect(await rewrite(recorded)).toMatchObject({ ok: true });

    // With no record, the endpoint is taken as checked for what its filters matched under the
    // rewriting deploy's rules, as its first dispatch would have taken it: its comments keep coming.
    expect(await storedReads(t.id, old)).toEqual({ reads: JSON.stringify([COMMENTS, POSTS]) });
    expect(await storedReads(t.id, recorded)).toEqual({ reads: JSON.stringify([POSTS]) });
    expect(await dispatchAs(Later, t.id, [event(t.id, "blog.comment.created")])).toEqual({
      routed: 1,
      held_back: 1,
    });
    expect(await received(t.id, old)).toEqual(["blog.comment.created"]);
    expect(await received(t.id, recorded)).toEqual([]);
  });
});
