// A platform operator changes a tenant (name, plan) and suspends and resumes it:
// what the tenant's callers then get, what the operator still reaches, and
// what the tenant's audit log records.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../src/modules/audit/contract";
import { tenantStore } from "../../src/modules/tenants/store";
import { gateway, parseList } from "../gateway/helpers";
import { auditOf, call, newKey, newTenant, newUser, PASSWORD, rootKey } from "./helpers";

const platform = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  call(`/api/v1/platform/tenants${path}`, { token: rootKey(), ...init });

describe("platform: change a tenant", () => {
  it("renames it and changes its plan; get and list show the change", async () => {
    const t = await newTenant("upd");
    const res = await platform(`/${t.id}`, { method: "PATCH", body: { name: "  Acme Pro  ", plan: "pro" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: t.id, slug: t.slug, name: "Acme Pro", plan: "pro", status: "active" });
    const got = await platform(`/${t.id}`);
    expect(got.body).toMatchObject({ name: "Acme Pro", plan: "pro", status: "active", suspended_at: null });
    // One field alone leaves the other as it was.
    const renamed = await platform(`/${t.id}`, { method: "PATCH", body: { name: "Acme" } });
    expect(renamed.body).toMatchObject({ name: "Acme", plan: "pro" });
  });

  it("the new plan's tenant rate limit applies at once in the isolate that changed it", async () => {
    const { call: gw, tenant } = gateway({ tenant: {} });
    const t = await tenant("plan");
    const policyOf = async () =>
      parseList((await gw("/api/v1/me", { token: t.adminKey })).headers.get("ratelimit-policy")).tenant;
    // Free's limit, and the tenant now cached by this isolate's lookup.
    expect(await policyOf()).toEqual({ q: 18_000, w: 60 });
    const changed = await gw(`/api/v1/platform/tenants/${t.id}`, {
      method: "PATCH",
      token: rootKey(),
      body: { plan: "enterprise" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(await policyOf()).toEqual({ q: 180_000, w: 60 });
  });

  it("counts versions, answers them as ETag, and honours If-Match (412 on a stale one, nothing changed)", async () => {
    const t = await newTenant("ver");
    const got = await platform(`/${t.id}`);
    expect(got.headers.get("etag")).toBe('"1"');
    const stale = await platform(`/${t.id}`, {
      method: "PATCH",
      headers: { "if-match": '"2"' },
      body: { plan: "pro" },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe("version_conflict");
    expect((await platform(`/${t.id}`)).body).toMatchObject({ plan: "free", version: 1 });
    const changed = await platform(`/${t.id}`, {
      method: "PATCH",
      headers: { "if-match": "1" },
      body: { plan: "pro" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBe(2);
    expect(changed.headers.get("etag")).toBe('"2"');
    const suspended = await platform(`/${t.id}/suspend`, { method: "POST", headers: { "if-match": '"2"' } });
    expect(suspended.body).toMatchObject({ status: "suspended", version: 3 });
    // A change that changes nothing keeps the version.
    expect((await platform(`/${t.id}/suspend`, { method: "POST" })).body.version).toBe(3);
    const resume = await platform(`/${t.id}/resume`, { method: "POST", headers: { "if-match": "2" } });
    expect(resume.status).toBe(412);
  });

  it("the registry never takes an older version's copy over a newer one (copies may land out of order)", async () => {
    const t = await newTenant("ver-order");
    await platform(`/${t.id}`, { method: "PATCH", body: { plan: "pro" } });
    const store = tenantStore(env.DB);
    const now = await store.find("id", t.id);
    if (!now) throw new Error("no tenant");
    await store.mirror({ ...now, status: "active", plan: "enterprise", version: 3 });
    await store.mirror({ ...now, status: "active", plan: "free", version: 2 });
    expect(await store.find("id", t.id)).toMatchObject({ plan: "enterprise", version: 3 });
  });

  it("a registry left behind by a failed copy catches up: a retry with the old If-Match is 412, and get then shows the current version", async () => {
    const t = await newTenant("ver-lag");
    expect((await platform(`/${t.id}`, { method: "PATCH", body: { plan: "pro" } })).body.version).toBe(2);
    // As if the copy to D1 had failed: the registry still holds version 1.
    await env.DB.prepare("update tenants set plan = 'free', version = 1 where id = ?").bind(t.id).run();
    const retry = await platform(`/${t.id}`, { method: "PATCH", headers: { "if-match": "1" }, body: { plan: "pro" } });
    expect(retry.status).toBe(412);
    const got = await platform(`/${t.id}`);
    expect(got.body).toMatchObject({ plan: "pro", version: 2 });
    expect(got.headers.get("etag")).toBe('"2"');
  });

  it.each([
    [{}, ["body"]],
    [{ plan: "gold" }, ["body.plan"]],
    [{ name: "   " }, ["body.name"]],
    [{ name: "X", slug: "other" }, ["body"]],
  ])("400 for the body %j", async (body, paths) => {
    const t = await newTenant("val");
    const res = await platform(`/${t.id}`, { method: "PATCH", body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual(paths);
  });

  it("404 for an unknown tenant, whichever change", async () => {
    for (const [path, method, body] of [
      ["/nope", "PATCH", { plan: "pro" }],
      ["/nope/suspend", "POST", {}],
      ["/nope/resume", "POST", undefined],
    ] as const) {
      const res = await platform(path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe("not_found");
      expect(res.body.detail).toBe('no tenant has id "nope"');
    }
  });

  it("a slug where the id goes is 404 naming the tenant's id (the operator typed the name they know)", async () => {
    const t = await newTenant("byslug");
    for (const [path, method, body] of [
      [`/${t.slug}`, "PATCH", { plan: "pro" }],
      [`/${t.slug}/suspend`, "POST", {}],
      [`/${t.slug}`, "GET", undefined],
      [`/${t.slug}/admin-keys`, "POST", { name: "recovery" }],
    ] as const) {
      const res = await platform(path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.detail).toBe(
        `no tenant has id "${t.slug}": that is the slug of tenant ${t.id}; the platform route takes the id`,
      );
    }
    expect((await platform(`/${t.id}`)).body).toMatchObject({ status: "active", plan: "free" });
  });
});

describe("platform: suspend and resume a tenant", () => {
  it("refuses every request of a suspended tenant with 403 tenant_suspended, and resume restores them", async () => {
    const t = await newTenant("sus");
    const other = await newTenant("sus-other");
    const user = await newUser(t.slug);
    const reason = "invoice 2026-11 unpaid";

    const suspended = await platform(`/${t.id}/suspend`, { body: { reason } });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(suspended.body).toMatchObject({ id: t.id, status: "suspended", suspended_reason: reason });
    expect(typeof suspended.body.suspended_at).toBe("string");

    const refused = {
      "API key": await call("/api/v1/me", { token: t.adminKey }),
      JWT: await call("/api/v1/me", { token: user.access_token }),
      login: await call("/api/v1/auth/login", { tenant: t.slug, body: { email: user.email, password: PASSWORD } }),
      refresh: await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: user.refresh_token } }),
      "X-Tenant": await call("/api/v1/auth/register", {
        tenant: t.slug,
        body: { email: "new@example.com", password: PASSWORD, name: "New" },
      }),
    };
    for (const [how, res] of Object.entries(refused)) {
      expect(res.status, how).toBe(403);
      expect(res.body.code, how).toBe("tenant_suspended");
      expect(res.headers.get("content-type"), how).toContain("application/problem+json");
      // The reason is the operator's word to the tenant, not to whoever calls.
      expect(JSON.stringify(res.body), how).not.toContain("unpaid");
    }

    // Another tenant is untouched; the operator still reaches the suspended one.
    expect((await call("/api/v1/me", { token: other.adminKey })).status).toBe(200);
    const got = await platform(`/${t.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: "suspended", suspended_reason: reason });
    const recovery = await platform(`/${t.id}/admin-keys`, { body: { name: "recovery" } });
    expect(recovery.status).toBe(201);

    const resumed = await platform(`/${t.id}/resume`, { method: "POST" });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ status: "active", suspended_at: null, suspended_reason: null });
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    expect((await call("/api/v1/me", { token: user.access_token })).status).toBe(200);
    const login = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: user.email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const refresh = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: user.refresh_token } });
    expect(refresh.status).toBe(200);
  });

  it("suspends without a body, but a body of another type is 415 and suspends nothing", async () => {
    const t = await newTenant("sus-type");
    const typed = await call(`/api/v1/platform/tenants/${t.id}/suspend`, {
      method: "POST",
      token: rootKey(),
      headers: { "content-type": "text/plain" },
    });
    expect(typed.status).toBe(415);
    expect((await platform(`/${t.id}`)).body.status).toBe("active");
    const bare = await platform(`/${t.id}/suspend`, { method: "POST" });
    expect(bare.body).toMatchObject({ status: "suspended", suspended_reason: null });
  });

  it("lists a suspended tenant with its status", async () => {
    const t = await newTenant("sus-list");
    await platform(`/${t.id}/suspend`, { method: "POST" });
    const found: Record<string, unknown>[] = [];
    let cursor: unknown = "";
    do {
      const page = await platform(`?limit=100&cursor=${cursor}`);
      found.push(...(page.body.items as Record<string, unknown>[]).filter((x) => x.id === t.id));
      cursor = page.body.next_cursor;
    } while (typeof cursor === "string");
    expect(found).toEqual([expect.objectContaining({ status: "suspended", suspended_reason: null })]);
  });

  it("a second suspension changes nothing (the first one's time and reason stay), and an Idempotency-Key replays", async () => {
    const t = await newTenant("sus-twice");
    const first = await platform(`/${t.id}/suspend`, { body: { reason: "abuse report" } });
    // A retry (the same reason, or none) is answered as the first was.
    for (const body of [{ reason: "abuse report" }, {}]) {
      const again = await platform(`/${t.id}/suspend`, { body });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    }
    // Another reason was answered 200 with the first one's, the new one dropped: the operator
    // (`plinth tenants suspend <id> --reason X`, exit 0) believed it recorded.
    const other = await platform(`/${t.id}/suspend`, { body: { reason: "another" } });
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body).toMatchObject({ code: "conflict" });
    expect(String(other.body.detail)).toBe(
      `tenant ${t.id} is already suspended, since ${first.body.suspended_at}, for "abuse report": the reason "another" is not recorded; to change it, resume the tenant and suspend it again`,
    );
    expect((await platform(`/${t.id}`, { method: "GET" })).body).toMatchObject({ suspended_reason: "abuse report" });
    const resumed = await platform(`/${t.id}/resume`, {
      method: "POST",
      headers: { "idempotency-key": `resume-${t.id}` },
    });
    const again = await platform(`/${t.id}/resume`, {
      method: "POST",
      headers: { "idempotency-key": `resume-${t.id}` },
    });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(resumed.body);
  });

  it("its events are still processed while it is suspended: its audit log takes them all", async () => {
    const t = await newTenant("sus-events");
    await newKey(t.adminKey, ["blog.post.read"]);
    await platform(`/${t.id}/suspend`, { method: "POST" });
    // A marker written after those, through the same outbox (the tenant's directory's), while
    // it is suspended: once its entry is in, the others have had their chance to arrive, so the
    // comparison below also sees an entry that came a batch late.
    const rename = await platform(`/${t.id}`, { method: "PATCH", body: { name: "Marker" } });
    expect(rename.status, JSON.stringify(rename.body)).toBe(200);
    // Read from the tenant's log itself: its administrators are refused for now.
    const expected = [
      "tenants.tenant.created",
      "identity.key.created",
      "identity.key.created",
      "tenants.tenant.suspended",
      "tenants.tenant.updated",
    ];
    let actions: string[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      actions = (await auditLog(env, t.id).entries({ fromSeq: 1, limit: 100 })).map((e) => e.action);
      if (actions.includes("tenants.tenant.updated")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Streams are delivered in no order among themselves: compare the sets.
    expect(actions.sort()).toEqual(expected.sort());
    expect((await call("/api/v1/me", { token: t.adminKey })).body.code).toBe("tenant_suspended");
  });

  it("records each change in the tenant's audit log as the platform's", async () => {
    const t = await newTenant("sus-audit");
    await platform(`/${t.id}`, { method: "PATCH", body: { plan: "pro" } });
    await platform(`/${t.id}/suspend`, { body: { reason: "chargeback" } });
    await platform(`/${t.id}/suspend`, { body: {} });
    await platform(`/${t.id}/resume`, { method: "POST" });

    const target = `${t.id}/tenant/${t.id}`;
    // The resumption first: the directory's outbox sends in order, so once its entry is in, an
    // entry of the repeated suspension (written before it) has had its chance to arrive too.
    const [resumed] = await auditOf(t.adminKey, "tenants.tenant.resumed");
    expect(resumed).toMatchObject({ actor: { kind: "platform", id: "platform" }, target });
    const [updated] = await auditOf(t.adminKey, "tenants.tenant.updated");
    expect(updated).toMatchObject({ actor: { kind: "platform", id: "platform" }, target });
    expect(updated?.detail).toEqual({ fields: ["plan"], plan: "pro" });
    // The repeated suspension recorded nothing.
    const suspensions = await auditOf(t.adminKey, "tenants.tenant.suspended");
    expect(suspensions).toHaveLength(1);
    expect(suspensions[0]).toMatchObject({ actor: { kind: "platform" }, target, detail: { reason: "chargeback" } });
  });
});
