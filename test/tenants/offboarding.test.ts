// A platform operator deletes a tenant: its requests are refused at once, the
// erasure job erases every store it had (D1 rows, R2 objects, Durable Objects,
// key material), a neighbour is untouched, and an erasure that stops half way
// resumes where it stopped.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { tenantEnvelopeOf } from "../../src/kernel/crypto/tenant-envelope";
import { aggregateByName } from "../../src/kernel/events/aggregate-rpc";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules as registered } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { fileStore } from "../../src/modules/files/contract";
import { directory } from "../../src/modules/identity/directory/contract";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { endpointActor, registry } from "../../src/modules/webhooks/contract";
import { bytesOf, fetchBytes, uploaded } from "../files/helpers";
import { expectProblem, runJobNamed, sealingRuntime, testRuntime } from "../helpers";
import { auditOf, call, mailsTo, newKey, newTenant, newUser, ORIGIN, PASSWORD, rootKey } from "../identity/helpers";
import { eraseUntil } from "./helpers";

/** Every D1 table that names a tenant (the registry, keyed by id, is checked on its own). */
const TENANT_TABLES = [
  "blog_posts",
  "audit_entries",
  "files",
  "api_key_index",
  "event_streams",
  "dev_mailbox",
  "dead_letters",
  "mail_dead_letters",
  "mail_suppressions",
];
const FIELD = "test.offboarding";

/** A JSON answer is the problem `code` with `status`. */
function expectCode(res: { status: number; body: Record<string, unknown> }, status: number, code: string): void {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
}

const platform = (path: string, init: { method?: string; body?: unknown } = {}) =>
  call(`/api/v1/platform/tenants${path}`, { token: rootKey(), ...init });

/** Each tenant table's rows of the tenant, in a stable order. */
async function rowsOf(tenantId: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TENANT_TABLES) {
    const { results } = await env.DB.prepare(`select * from ${table} where tenant_id = ? order by 1, 2`)
      .bind(tenantId)
      .all();
    out[table] = results;
  }
  return out;
}

/**
 * Waits until every event the tenant's directory emitted on `stream` is in D1: an audit entry
 * for each, and the stream catalog at the newest version. Both are written by the event
 * queue's consumer (the catalog after the audit log, in its own transaction) up to a batch
 * later than the request that emitted them, so a snapshot taken at the answer can see the
 * tenant's rows move on afterwards, with nobody touching it.
 */
async function landed(tenantId: string, stream: string): Promise<void> {
  const key = `${tenantId}/${stream}`;
  const emitted = await runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, state) =>
      state.storage.sql.exec<{ version: number }>("select version from stream_versions where stream = ?", key).one()
        .version,
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const audited = await env.DB.prepare("select count(*) as n from audit_entries where tenant_id = ? and target = ?")
      .bind(tenantId, key)
      .first<number>("n");
    const catalogued = await env.DB.prepare("select version from event_streams where stream = ?")
      .bind(key)
      .first<number>("version");
    if (audited === emitted && catalogued === emitted) return;
    if (Date.now() > deadline) {
      throw new Error(`${key}: ${emitted} events emitted, ${audited} audited, catalogued at ${catalogued}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const r2Keys = async (tenantId: string) =>
  (await env.FILES.list({ prefix: `${tenantId}/` })).objects.map((o) => o.key).sort();

/** A tenant with a user, an extra API key, a blog post, a file, a webhook endpoint, audit entries and a sealed value. */
async function populated(prefix: string) {
  const t = await newTenant(prefix);
  const user = await newUser(t.slug);
  const key = await newKey(t.adminKey, ["*"]);
  const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hello", content: "Body" } });
  expect(post.status, JSON.stringify(post.body)).toBe(201);
  const file = await uploaded(t.adminKey, bytesOf(64));
  const hook = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  const url = (await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} })).body.url as string;
  const sealed = await tenantEnvelopeOf(sealingRuntime(FIELD)).encrypt(t.id, FIELD, "personal data");
  // Let the queues settle, so nothing of this tenant is still on its way to D1.
  expect((await auditOf(t.adminKey, "webhooks.endpoint.created")).length).toBe(1);
  expect((await auditOf(t.adminKey, "blog.post.created")).length).toBe(1);
  await mailsTo(t.slug, user.email);
  // A deleted account leaves its recipient digest in mail_suppressions for a while.
  const leaver = await newUser(t.slug);
  await mailsTo(t.slug, leaver.email);
  expect((await call(`/api/v1/users/${leaver.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
  // Its last events (the leaver's token family revoked, the account deleted) are still on the
  // queue: wait for them, or the neighbour's snapshot below would miss them.
  await landed(t.id, `user/${leaver.id}`);
  const signedUrl = new URL(url);
  return {
    ...t,
    user,
    key,
    file,
    sealed,
    hookId: hook.body.id as string,
    signed: `${ORIGIN}${signedUrl.pathname}${signedUrl.search}`,
  };
}

// Each run of the job needs a later fire time than the last (its lease refuses an older one).
let minutes = 0;
const nextMinute = () => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ++minutes * 60_000));
/** Whether the registry forgot the tenant (its erasure finished): its get answers 404. */
const erased = async (id: string) => (await platform(`/${id}`)).status === 404;

describe("platform: delete a tenant", () => {
  it("refuses its requests at once, erases every store of it after the grace, and leaves its neighbour as it was", async () => {
    const gone = await populated("off");
    const neighbour = await populated("nb");
    const before = await rowsOf(neighbour.id);
    // It has rows in every table it can have them in (dead letters only when a delivery failed).
    const had = await rowsOf(gone.id);
    for (const table of TENANT_TABLES.filter((n) => !n.includes("dead_letters"))) {
      expect({ table, some: (had[table] ?? []).length > 0 }).toEqual({ table, some: true });
    }
    expect((await r2Keys(gone.id)).length).toBe(1);
    const neighbourKeys = await r2Keys(neighbour.id);

    // Its blog post's aggregate and its endpoint's delivery actor hold what they hold.
    const [stream] = ((had.event_streams ?? []) as { stream: string; type: string }[]).filter((r) => r.type === "post");
    if (!stream) throw new Error("no blog post stream");
    const [, type = "", id = ""] = stream.stream.split("/");
    const post = { stream: { tenantId: gone.id, type, id } };
    expect((await aggregateByName(env, stream.stream).read(post)).length).toBeGreaterThan(0);
    const endpoint = endpointActor(env, gone.id, gone.hookId);
    // A test delivery hands the endpoint's actor its config (and a copy of the sealed secret).
    expect(
      (await call(`/api/v1/admin/webhooks/${gone.hookId}/test`, { token: gone.adminKey, body: {} })).status,
    ).toBeLessThan(300);
    expect((await endpoint.sealedSecrets({})).length).toBe(1);

    // An object refuses to erase another tenant's data, whatever a caller's bug asks of it.
    await expect(directory(env, neighbour.id).eraseAll({ tenant_id: gone.id })).rejects.toThrow(/another tenant/);
    await expect(auditLog(env, neighbour.id).eraseAll({ tenant_id: gone.id })).rejects.toThrow(/another tenant/);
    await expect(fileStore(env, neighbour.id).eraseAll({ tenant_id: gone.id })).rejects.toThrow(/another tenant/);
    await expect(registry(env, neighbour.id).eraseAll({ tenant_id: gone.id })).rejects.toThrow(/another tenant/);
    const neighbourStream =
      ((before.event_streams ?? []) as { stream: string; type: string }[]).find((r) => r.type === "post")?.stream ?? "";
    await expect(aggregateByName(env, neighbourStream).eraseAll({ tenant_id: gone.id })).rejects.toThrow(
      /another tenant/,
    );

    const deleted = await platform(`/${gone.id}`, { method: "DELETE" });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    expect(deleted.body).toMatchObject({ id: gone.id, status: "deleting", erasure_done: [] });
    expect(typeof deleted.body.deleted_at).toBe("string");

    // Refused at once, as a tenant that never existed: its keys, its users, its slug, its signed URLs.
    expectCode(await call("/api/v1/me", { token: gone.adminKey }), 404, "tenant_not_found");
    expectCode(await call("/api/v1/me", { token: gone.key.key }), 404, "tenant_not_found");
    expectCode(await call("/api/v1/me", { token: gone.user.access_token }), 404, "tenant_not_found");
    const login = await call("/api/v1/auth/login", {
      tenant: gone.slug,
      body: { email: gone.user.email, password: PASSWORD },
    });
    expectCode(login, 404, "tenant_not_found");
    await expectProblem((await fetchBytes(gone.signed)).res, 404, "tenant_not_found");
    // The platform still sees it (the erasure's progress), but changes it no more.
    expect((await platform(`/${gone.id}`)).body).toMatchObject({ status: "deleting" });
    expect((await platform(`/${gone.id}`, { method: "PATCH", body: { plan: "pro" } })).status).toBe(404);
    expect((await platform(`/${gone.id}/resume`, { method: "POST" })).status).toBe(404);
    // Its slug stays taken until the erasure ends.
    const again = await platform("", { body: { slug: gone.slug, name: "Another" } });
    expect(again.status).toBe(409);
    // Deleting twice is harmless: the same answer, the same time.
    const twice = await platform(`/${gone.id}`, { method: "DELETE" });
    expect(twice.status).toBe(202);
    expect(twice.body.deleted_at).toBe(deleted.body.deleted_at);

    // Within the grace (other isolates may still serve it), the job leaves it alone. (Its run
    // erases other files' deleted tenants of the shared D1, whose outcome is theirs.)
    const early = await runJobNamed("tenants/erase-deleted", {
      clock: manualClock(new Date(Date.now() + ++minutes * 1000)),
    });
    expect(early.ran).toBe(true);
    expect((await platform(`/${gone.id}`)).body).toMatchObject({ status: "deleting", erasure_done: [] });
    expect((await rowsOf(gone.id)).blog_posts?.length).toBe(1);

    // Past it, the job's runs reach it (behind other files' deleted tenants, if any) and erase it.
    await eraseUntil(() => erased(gone.id), nextMinute);

    // Every table, R2, every object of it: empty.
    for (const [table, rows] of Object.entries(await rowsOf(gone.id)))
      expect({ table, rows }).toEqual({ table, rows: [] });
    expect(await r2Keys(gone.id)).toEqual([]);
    expect(await directory(env, gone.id).tenantState()).toBeNull();
    expect((await auditLog(env, gone.id).verify()).entries).toBe(0);
    expect((await fileStore(env, gone.id).usage({})).used_bytes).toBe(0);
    expect((await registry(env, gone.id).list({ limit: 100, cursor: null })).items).toEqual([]);
    expect(await endpoint.sealedSecrets({})).toEqual([]);
    // Erased: its events are gone, and a late read is refused as erased.
    await expect(aggregateByName(env, stream.stream).read(post)).rejects.toThrow(/^TenantErased: /);
    expect((await aggregateByName(env, stream.stream).state({ stream: post.stream })).version).toBe(0);
    // Shredded: what it sealed cannot be opened any more.
    await expect(tenantEnvelopeOf(testRuntime()).decryptText(gone.id, FIELD, gone.sealed)).rejects.toThrow();
    // The registry forgot it: unknown to the platform, its slug free again.
    expect((await platform(`/${gone.id}`)).status).toBe(404);
    expect((await platform(`/${gone.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await platform("", { body: { slug: gone.slug, name: "Reborn" } })).status).toBe(201);

    // The neighbour: every row, every object, its sealed value and its requests as they were.
    expect(await rowsOf(neighbour.id)).toEqual(before);
    expect(await r2Keys(neighbour.id)).toEqual(neighbourKeys);
    expect(await tenantEnvelopeOf(testRuntime()).decryptText(neighbour.id, FIELD, neighbour.sealed)).toBe(
      "personal data",
    );
    expect((await call("/api/v1/me", { token: neighbour.adminKey })).status).toBe(200);
    expect((await fetchBytes(neighbour.signed)).res.status).toBe(200);
    expect((await registry(env, neighbour.id).list({ limit: 100, cursor: null })).items.length).toBe(1);
    expect((await auditLog(env, neighbour.id).verify()).ok).toBe(true);
  });

  it("an erasure that stops half way resumes on the next run, never repeating a step it recorded done", async () => {
    const t = await populated("flk");
    let shreds = 0;
    let tries = 0;
    let unavailable = true;
    // Its steps count and fail for this test's tenant only: the runs take other files' deleted
    // tenants of the shared D1 too, before or after it.
    const flaky: ModuleDef = {
      name: "flaky",
      version: "1.0.0",
      erasure: {
        shred: async (tenantId) => {
          if (tenantId === t.id) shreds++;
        },
        erase: async (tenantId) => {
          if (tenantId !== t.id) return;
          tries++;
          if (unavailable) throw new Error("storage unavailable");
        },
      },
    };
    const modules = [...registered, flaky];
    expect((await platform(`/${t.id}`, { method: "DELETE" })).status).toBe(202);
    const runs = await eraseUntil(async () => tries > 0, nextMinute, modules);
    // The attempt that took it up failed, and said so in the run's record.
    const failed = runs.at(-1);
    expect(failed?.ran && failed.run.attempts.some((a) => a.outcome === "failed"), JSON.stringify(failed)).toBe(true);
    const midway = await platform(`/${t.id}`);
    // The keys went first (the point of no return), and stay done.
    expect(midway.body).toMatchObject({ status: "deleting", erasure_done: ["keys"] });
    await expect(tenantEnvelopeOf(testRuntime()).decryptText(t.id, FIELD, t.sealed)).rejects.toThrow();
    expect((await rowsOf(t.id)).blog_posts?.length).toBe(1);

    // The storage is back: a later run resumes at the failed step, the keys not shredded again.
    unavailable = false;
    const failedTries = tries;
    await eraseUntil(() => erased(t.id), nextMinute, modules);
    expect(shreds).toBe(1);
    expect(tries - failedTries).toBe(1);
    for (const [table, rows] of Object.entries(await rowsOf(t.id)))
      expect({ table, rows }).toEqual({ table, rows: [] });
    expect(await r2Keys(t.id)).toEqual([]);
    expect((await platform(`/${t.id}`)).status).toBe(404);
  });

  it("answers 404 for an unknown id, and needs the root key", async () => {
    expectCode(await platform("/nope", { method: "DELETE" }), 404, "not_found");
    const t = await newTenant("own");
    const self = await call(`/api/v1/platform/tenants/${t.id}`, { method: "DELETE", token: t.adminKey });
    expect(self.status).toBe(403);
    expect((await platform(`/${t.id}`)).body).toMatchObject({ status: "active" });
  });
});
