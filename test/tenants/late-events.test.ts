// An event of a deleted tenant that reaches the queue consumer late (a retry that outlived
// the tenant's erasure) is dropped: it would write back the read-model row and the audit
// entry the erasure removed. A live tenant's event in the same batch is applied as ever.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { modules } from "../../src/modules";
import { postDecider } from "../../src/modules/blog/domain";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { erasureStore } from "../../src/modules/tenants/erasure-store";
import { tenantLookup } from "../../src/modules/tenants/lookup";
import { runJobNamed } from "../helpers";
import { call, newTenant, rootKey } from "../identity/helpers";
import { consume as consumeMail, messagesOf, recordingTransport, sampleMail } from "../notify/helpers";
import { eraseUntil } from "./helpers";

const consumer = createQueueHandler(createPlatform({ modules, migrations: MIGRATIONS }));

/** A tenant with one post, and the post's stored events once the platform has projected them. */
async function tenantWithPost(prefix: string) {
  const t = await newTenant(prefix);
  const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hello", content: "Body" } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const postId = String(created.body.id);
  for (let i = 0; i < 400 && (await postRow(t.id, postId)) === null; i++) await new Promise((r) => setTimeout(r, 25));
  expect(await postRow(t.id, postId)).not.toBeNull();
  const events = await aggregateOf(env, postDecider, t.id, postId).read(1, 100);
  return { ...t, postId, events };
}

const postRow = (tenantId: string, id: string) =>
  env.DB.prepare("select title from blog_posts where tenant_id = ? and id = ?").bind(tenantId, id).first();

/** Forgets the post's row and the ledger's record of its events, as if they had never been delivered. */
async function undelivered(t: { id: string; postId: string; events: readonly Envelope[] }): Promise<void> {
  await env.DB.prepare("delete from blog_posts where tenant_id = ? and id = ?").bind(t.id, t.postId).run();
  await env.DB.prepare("delete from processed_events where event_id in (select value from json_each(?))")
    .bind(JSON.stringify(t.events.map((e) => e.id)))
    .run();
}

let messageNo = 0;
/** The platform's queue consumer on `events` as one batch of `queue`; the ids of the messages acked and retried. */
async function consume(events: readonly Envelope[], queue = "plinth-events") {
  const batch = createMessageBatch(
    queue,
    events.map((body) => ({ id: `late-${++messageNo}`, timestamp: new Date(), attempts: 3, body })),
  );
  const ctx = createExecutionContext();
  await consumer(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { acked: result.explicitAcks.length, retried: result.retryMessages.length };
}

// Each run of the job needs a later fire time than the last (its lease refuses an older one).
let minutes = 0;
const nextMinute = () => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ++minutes * 60_000));

const deleteTenant = async (id: string) =>
  expect((await call(`/api/v1/platform/tenants/${id}`, { method: "DELETE", token: rootKey() })).status).toBe(202);

describe("a late event of a deleted tenant", () => {
  it("is dropped while the tenant is being erased and after, and a live tenant's beside it is applied", async () => {
    const erased = await tenantWithPost("late-erased");
    const deleting = await tenantWithPost("late-deleting");
    const live = await tenantWithPost("late-live");

    await deleteTenant(erased.id);
    // Runs until its own erasure is done: other files' deleted tenants of the shared D1 may come first.
    await eraseUntil(async () => (await erasureStore(env.DB).erasedAt(erased.id)) !== null, nextMinute);
    expect(await postRow(erased.id, erased.postId)).toBeNull();
    const tombstone = await env.DB.prepare("select id from erased_tenants where id = ?").bind(erased.id).first();
    expect(tombstone).toEqual({ id: erased.id });
    // The operator asking after it learns when it was erased (GET, and a repeated DELETE).
    for (const method of ["GET", "DELETE"]) {
      const asked = await call(`/api/v1/platform/tenants/${erased.id}`, { method, token: rootKey() });
      expect({ status: asked.status, code: asked.body.code }).toEqual({ status: 404, code: "not_found" });
      expect(String(asked.body.detail)).toMatch(
        new RegExp(`^tenant ${erased.id} was erased at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; nothing of it is kept`),
      );
    }
    // Deleted after the erasure ran: still within its grace, being erased later.
    await deleteTenant(deleting.id);

    for (const t of [erased, deleting, live]) await undelivered(t);
    const result = await consume([...erased.events, ...deleting.events, ...live.events]);

    // Every message is settled (none retried, none held back by the dropped ones).
    expect(result).toEqual({ acked: erased.events.length + deleting.events.length + live.events.length, retried: 0 });
    expect(await postRow(erased.id, erased.postId)).toBeNull();
    expect(await postRow(deleting.id, deleting.postId)).toBeNull();
    expect(await postRow(live.id, live.postId)).toEqual({ title: "Hello" });
  });

  it("is not kept as a dead letter either (it carries the tenant's data), while a live tenant's is", async () => {
    const erased = await tenantWithPost("late-dlq-gone");
    const live = await tenantWithPost("late-dlq-live");
    await deleteTenant(erased.id);
    const letters = (tenantId: string) =>
      env.DB.prepare("select count(*) as n from dead_letters where tenant_id = ?")
        .bind(tenantId)
        .first<{ n: number }>();
    const result = await consume([...erased.events, ...live.events], "plinth-events-dlq");
    expect(result).toEqual({ acked: erased.events.length + live.events.length, retried: 0 });
    expect(await letters(erased.id)).toEqual({ n: 0 });
    expect(await letters(live.id)).toEqual({ n: live.events.length });
  });

  it("mail of a deleted tenant is neither sent nor kept as a dead letter; a live tenant's is", async () => {
    const gone = await newTenant("late-mail-gone");
    const live = await newTenant("late-mail-live");
    await deleteTenant(gone.id);
    const bodies = await messagesOf([sampleMail("a@example.com", gone.id), sampleMail("b@example.com", live.id)]);
    const { calls, transport } = recordingTransport();
    const sent = await consumeMail(bodies, { modules, transport: () => transport });
    expect(sent.result.explicitAcks).toHaveLength(2);
    expect(calls.map((c) => c.tenantId)).toEqual([live.id]);
    const dead = await consumeMail(bodies, { modules, queue: "plinth-mail-dlq" });
    expect(dead.result.explicitAcks).toHaveLength(2);
    const kept = await env.DB.prepare(
      "select tenant_id from mail_dead_letters where tenant_id in (?, ?) order by tenant_id",
    )
      .bind(gone.id, live.id)
      .all();
    expect(kept.results).toEqual([{ tenant_id: live.id }]);
  });

  it("gives a tombstone only to a tenant whose erasure finished, never to a live one", async () => {
    const live = await tenantWithPost("late-tomb");
    // A run that erases what is due (other files' deleted tenants, whose outcome is theirs) past it.
    const run = await runJobNamed("tenants/erase-deleted", { clock: nextMinute() });
    expect(run.ran, JSON.stringify(run)).toBe(true);
    expect(await env.DB.prepare("select id from erased_tenants where id = ?").bind(live.id).first()).toBeNull();
    await undelivered(live);
    expect(await consume(live.events)).toEqual({ acked: live.events.length, retried: 0 });
    expect(await postRow(live.id, live.postId)).toEqual({ title: "Hello" });
  });

  it("are told apart for a batch of many tenants at once (more than D1 binds in one statement)", async () => {
    const t = await newTenant("late-many");
    await deleteTenant(t.id);
    const others = Array.from({ length: 120 }, (_, i) => `01NOSUCHTENANT${String(i).padStart(12, "0")}`);
    expect([...(await tenantLookup.gone(env, [...others, t.id, ...others]))]).toEqual([t.id]);
  });
});
