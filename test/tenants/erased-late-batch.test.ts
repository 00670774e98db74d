// Queue work that reaches a tenant's objects after its erasure emptied them (a batch that
// passed the consumer's tenant check while an isolate still cached "not deleted") is
// acknowledged and dropped, with a line naming the tenant and the event type: never retried
// towards the dead-letter queue, and never in the way of a live tenant's events in the same
// batch. Jobs walking the tenants skip one erased under them the same way.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { reencryptTenant, tenantVersions } from "../../src/kernel/crypto/tenant-pass";
import { aggregateByName, aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { forEachTenant } from "../../src/kernel/jobs/each-tenant";
import { createLogger } from "../../src/kernel/log";
import { modules } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { postDecider } from "../../src/modules/blog/domain";
import { directory } from "../../src/modules/identity/directory/contract";
import { erasureStore } from "../../src/modules/tenants/erasure-store";
import { tenantLookup } from "../../src/modules/tenants/lookup";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { webhooksErasure } from "../../src/modules/webhooks/erasure";
import { testRuntime } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { infoLines } from "../log-lines";

const consumer = createQueueHandler(createPlatform({ modules, migrations: MIGRATIONS }));
const DROPPED = "event of an erased tenant dropped";

afterEach(() => {
  vi.restoreAllMocks();
});

let n = 0;
const event = (tenant: string): Envelope => ({
  id: `late-batch-${Date.now()}-${++n}`,
  type: "identity.user.logged_in",
  tenant_id: tenant,
  stream: `${tenant}/user/u1`,
  version: n,
  occurred_at: new Date().toISOString(),
  actor: { kind: "user", id: "u1" },
  request_id: null,
  data: {},
});

/** A tenant with one webhook endpoint for identity events (nothing listens at its URL: deliveries stay queued). */
/** Waits until `consumer` has recorded `eventId` in the ledger (its mark), or fails after ~5 s. */
async function marked(consumer: string, eventId: string, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const mark = await env.DB.prepare("select 1 from processed_events where consumer = ? and event_id = ?")
      .bind(consumer, eventId)
      .first();
    if (mark) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} never applied ${eventId}`);
}

/**
 * Waits until both deliveries of a post's event are done: the writer's inline pass (the
 * blog's read model) and the queue's (its last subscription, the stream catalog). Either
 * may land late under a full run's load; one landing after a test's deletions would write
 * the row back (the queue's copy also sweeps it, but only once its batch ends, racing the
 * test's own batch and its checks).
 */
async function inlineApplied(eventId: string): Promise<void> {
  await marked("blog:blog.posts", eventId, "the inline pass");
  await marked("kernel:streams", eventId, "the queue");
}

async function tenantWithEndpoint(prefix: string) {
  const t = await newTenant(prefix);
  const hook = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "http://127.0.0.1:9/hook", events: ["identity.user.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  return { ...t, endpoint: endpointActor(env, t.id, String(hook.body.id)) };
}

const queued = async (endpoint: ReturnType<typeof endpointActor>) =>
  (await endpoint.deliveries({ limit: 100, cursor: null })).items.map((d) => d.message_id);

describe("late queue work for an erased tenant", () => {
  it("is acked and dropped with a line naming the tenant and type, while a live tenant's beside it is done", async () => {
    const erased = await tenantWithEndpoint("late-batch-erased");
    const live = await tenantWithEndpoint("late-batch-live");
    // The audit and webhooks steps of the erasure ran; the registry row is still there, as an
    // isolate's cached "not deleted" answer would have the consumer believe.
    await auditLog(env, erased.id).eraseAll({ tenant_id: erased.id });
    await webhooksErasure.erase?.(erased.id, testRuntime());

    const late = event(erased.id);
    const fresh = event(live.id);
    const batch = createMessageBatch("plinth-events", [
      { id: `m-${late.id}`, timestamp: new Date(), attempts: 1, body: late },
      { id: `m-${fresh.id}`, timestamp: new Date(), attempts: 1, body: fresh },
    ]);
    const ctx = createExecutionContext();
    let skipped: Record<string, unknown>[] = [];
    const lines = await infoLines(DROPPED, async () => {
      skipped = await infoLines("events of an erased tenant skipped", async () => {
        await consumer(batch, { ...env, LOG_LEVEL: "info" }, ctx);
      });
    });
    const result = await getQueueResult(batch, ctx);

    expect({ acked: result.explicitAcks.length, retried: result.retryMessages.length }).toEqual({
      acked: 2,
      retried: 0,
    });
    // The live tenant's work is done: its audit entry chained and copied, its delivery queued.
    expect((await auditLog(env, live.id).entries({ fromSeq: 1, limit: 100 })).map((e) => e.action)).toContain(
      fresh.type,
    );
    const row = await env.DB.prepare("select action from audit_entries where tenant_id = ? and target = ?")
      .bind(live.id, fresh.stream)
      .first();
    expect(row).toEqual({ action: fresh.type });
    expect(await queued(live.endpoint)).toContain(fresh.id);
    // The erased tenant's objects stay empty, and each refusal is one info line.
    expect(await auditLog(env, erased.id).entries({ fromSeq: 1, limit: 100 })).toEqual([]);
    expect(await queued(erased.endpoint)).toEqual([]);
    // The audit log's refusal reveals the erasure: the subscriptions after it skip the event.
    const seen = lines.map((l) => ({ tenant_id: l.tenant_id, event_type: l.event_type, subscriber: l.subscriber }));
    expect(seen).toEqual([{ tenant_id: erased.id, event_type: late.type, subscriber: "audit:log" }]);
    expect(lines.every((l) => l.tenant_id === erased.id && l.event_id === late.id)).toBe(true);
    expect(skipped).toEqual([
      expect.objectContaining({
        tenant_id: erased.id,
        subscribers: expect.arrayContaining(["webhooks:dispatch", "kernel:streams"]),
      }),
    ]);
  });

  it("a projection's gap fill from an erased writer drops the event instead of retrying it", async () => {
    /** A tenant with a published post, its row and ledger marks forgotten: its second event alone leaves a gap. */
    const withPost = async (prefix: string) => {
      const t = await newTenant(prefix);
      const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hi", content: "Body" } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const postId = String(created.body.id);
      const published = await call(`/api/v1/blog/posts/${postId}/publish`, { method: "POST", token: t.adminKey });
      expect(published.status, JSON.stringify(published.body)).toBe(200);
      const events = await aggregateOf(env, postDecider, t.id, postId).read(1, 100);
      expect(events.map((e) => e.version)).toEqual([1, 2]);
      return { ...t, second: events[1] as Envelope };
    };
    const erased = await withPost("late-gap-erased");
    const live = await withPost("late-gap-live");
    await aggregateByName(env, erased.second.stream).eraseAll({ tenant_id: erased.id });
    for (const t of [erased, live]) {
      await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();
      await env.DB.prepare("delete from processed_events where event_id = ?").bind(t.second.id).run();
    }

    const batch = createMessageBatch(
      "plinth-events",
      [erased.second, live.second].map((body) => ({ id: `m-${body.id}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    const lines = await infoLines(DROPPED, async () => {
      await consumer(batch, { ...env, LOG_LEVEL: "info" }, ctx);
    });
    const result = await getQueueResult(batch, ctx);
    expect({ acked: result.explicitAcks.length, retried: result.retryMessages.length }).toEqual({
      acked: 2,
      retried: 0,
    });
    const row = (t: { id: string }) =>
      env.DB.prepare("select title, status from blog_posts where tenant_id = ?").bind(t.id).first();
    expect(await row(live)).toMatchObject({ title: "Hi" });
    expect(await row(erased)).toBeNull();
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tenant_id: erased.id,
          event_type: "blog.post.published",
          subscriber: "blog:blog.posts",
        }),
      ]),
    );
  });

  it("an erasure one subscription reveals drops the tenant's events for the rest of the batch and for later batches", async () => {
    // The tenant's audit log is erased, its registry row still live (as an isolate's cached
    // "not deleted" would have it): only the audit subscription's refusal says it is gone.
    const erased = await newTenant("late-reveal-erased");
    const created = await call("/api/v1/blog/posts", {
      token: erased.adminKey,
      body: { title: "Back", content: "Body" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const [post] = await aggregateOf(env, postDecider, erased.id, String(created.body.id)).read(1, 1);
    expect(post?.type).toBe("blog.post.created");
    await inlineApplied(post?.id ?? "");
    await auditLog(env, erased.id).eraseAll({ tenant_id: erased.id });
    // What the erasure's tables step removed (the inline pass had written the post's row).
    for (const table of ["blog_posts", "event_streams"])
      await env.DB.prepare(`delete from ${table} where tenant_id = ?`).bind(erased.id).run();
    await env.DB.prepare("delete from processed_events where event_id = ?")
      .bind(post?.id ?? "")
      .run();

    const consume = async (body: Envelope) => {
      const batch = createMessageBatch("plinth-events", [
        { id: `m-${body.id}`, timestamp: new Date(), attempts: 1, body },
      ]);
      const ctx = createExecutionContext();
      await consumer(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    const rows = async (table: string) =>
      (await env.DB.prepare(`select count(*) as n from ${table} where tenant_id = ?`).bind(erased.id).first())?.n;

    // Batch 1: the audit log refuses; the stream catalog, which runs after it, writes nothing.
    const login = await consume(event(erased.id));
    expect({ acked: login.explicitAcks.length, retried: login.retryMessages.length }).toEqual({ acked: 1, retried: 0 });
    expect(await rows("event_streams")).toBe(0);
    // Batch 2: the post's projection, which runs before the audit log, is not given the event.
    const late = await consume(post as Envelope);
    expect({ acked: late.explicitAcks.length, retried: late.retryMessages.length }).toEqual({ acked: 1, retried: 0 });
    expect({ blog_posts: await rows("blog_posts"), event_streams: await rows("event_streams") }).toEqual({
      blog_posts: 0,
      event_streams: 0,
    });
  });

  it("rows a projection wrote before the revealing refusal are swept once the erasure is past the objects", async () => {
    /** A deleting tenant, `done` the erasure's steps recorded, with a post whose created event comes late. */
    const deleting = async (prefix: string, done: string[]) => {
      const t = await newTenant(prefix);
      const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Back", content: "Body" } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const [post] = await aggregateOf(env, postDecider, t.id, String(created.body.id)).read(1, 1);
      await inlineApplied(post?.id ?? "");
      // This isolate still takes the tenant for live (its cached "not deleted").
      expect(await tenantLookup.gone(env, [t.id])).toEqual(new Set());
      const store = erasureStore(env.DB);
      // Deleted "a day from now": other files' tests run tenants/erase-deleted with clocks past the
      // grace over the same D1, and would otherwise erase this tenant under the test.
      expect(await store.markDeleting(t.id, new Date(Date.now() + 86_400_000).toISOString())).toBe(true);
      await store.recordSteps(t.id, done);
      await auditLog(env, t.id).eraseAll({ tenant_id: t.id });
      await env.DB.prepare("delete from blog_posts where tenant_id = ?").bind(t.id).run();
      await env.DB.prepare("delete from processed_events where event_id = ?")
        .bind(post?.id ?? "")
        .run();
      return { ...t, post: post as Envelope };
    };
    // Past the aggregates step: its rows may go now (the tables step may have run already).
    const past = await deleting("late-sweep-past", ["keys", "module:webhooks", "module:audit", "aggregates"]);
    // Before it: the stream catalog's rows are how that step finds the streams; they stay.
    const before = await deleting("late-sweep-before", ["keys", "module:webhooks", "module:audit"]);

    const rows = async (t: { id: string }) => {
      const count = async (table: string) =>
        (await env.DB.prepare(`select count(*) as n from ${table} where tenant_id = ?`).bind(t.id).first())?.n;
      return { blog_posts: await count("blog_posts"), event_streams: await count("event_streams") };
    };
    // The stream catalog holds each tenant's streams (its creation's too) once the queue delivered them.
    const catalogued = (await rows(before)).event_streams;
    expect(catalogued).toBeGreaterThan(0);
    const batch = createMessageBatch(
      "plinth-events",
      [past.post, before.post].map((body) => ({ id: `m-${body.id}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await consumer(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect({ acked: result.explicitAcks.length, retried: result.retryMessages.length }).toEqual({
      acked: 2,
      retried: 0,
    });
    expect(await rows(past)).toEqual({ blog_posts: 0, event_streams: 0 });
    // Left to the erasure's tables step, which runs after the aggregates.
    expect(await rows(before)).toEqual({ blog_posts: 1, event_streams: catalogued });
  });

  it("a job walking the tenants skips one erased under it, without failing the run for the others", async () => {
    const erased = await newTenant("late-job-erased");
    const live = await newTenant("late-job-live");
    await directory(env, erased.id).eraseAll({ tenant_id: erased.id });
    const runtime = { ...testRuntime(), modules, log: createLogger("info") };
    const visited: string[] = [];
    let outcome = { seen: 0, failed: 0 };
    const lines = await infoLines("tenant erased under a job; skipped", async () => {
      outcome = await forEachTenant(runtime, async (id) => {
        if (id !== erased.id && id !== live.id) return;
        // A write the erased directory refuses (TenantErased, over RPC as a plain Error).
        await directory(env, id).updateSettings({
          ctx: { now: new Date().toISOString(), actor: { kind: "system", id: "test" }, requestId: null },
          patch: { cors_origins: ["https://late.example.com"] },
        });
        visited.push(id);
      });
    });
    expect(visited).toEqual([live.id]);
    expect(outcome.failed).toBe(0);
    expect(lines).toEqual([expect.objectContaining({ tenant_id: erased.id })]);
  });

  it("a crypto pass over a tenant erased under it reports nothing left to re-seal, not a failure", async () => {
    const erased = await newTenant("late-crypto-erased");
    await directory(env, erased.id).eraseAll({ tenant_id: erased.id });
    // A module's sealed values whose swap reaches the erased directory (a write it refuses).
    const refused = {
      kinds: ["test.sealed"],
      versions: async () => ({}),
      async reencrypt(tenantId: string) {
        await directory(env, tenantId).updateSettings({
          ctx: { now: new Date().toISOString(), actor: { kind: "system", id: "test" }, requestId: null },
          patch: { cors_origins: ["https://late.example.com"] },
        });
        return { resealed: 1, raced: 0 };
      },
    };
    const runtime = { ...testRuntime(), log: createLogger("info") };
    let pass: Awaited<ReturnType<typeof reencryptTenant>> | undefined;
    const lines = await infoLines("crypto tenant pass: tenant erased; nothing left to re-seal", async () => {
      pass = await reencryptTenant([refused], erased.id, runtime);
    });
    expect(pass).toMatchObject({ tenant_id: erased.id, resealed: 0, error: null });
    expect(lines).toEqual([expect.objectContaining({ tenant_id: erased.id })]);
    const counted = await tenantVersions(
      [{ ...refused, versions: () => refused.reencrypt(erased.id).then(() => ({})) }],
      erased.id,
      runtime,
    );
    expect(counted).toEqual({ tenant_id: erased.id, counts: {}, error: null });
  });
});
