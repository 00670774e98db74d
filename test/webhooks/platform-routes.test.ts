// /api/v1/platform/tenants/{tenant_id}/webhooks: the runbook "Webhook deliveries given up"
// (docs/operations.md) with the root key, so an operator needs no key of the tenant: its
// endpoints, an endpoint's failed deliveries, redelivering them, enabling the endpoint.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, newTenant, rootKey } from "../identity/helpers";
import { endpointWithFailures, giveUpBetweenAttempts } from "./failures";

const base = (tenantId: string) => `/api/v1/platform/tenants/${tenantId}/webhooks`;
const asRoot = (path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  call(path, { token: rootKey(), ...options });

describe("platform webhook routes (happy)", () => {
  it("lists a tenant's endpoints and its failed deliveries, and redelivers them, with the root key", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"]);
    const listed = await asRoot(base(e.t.id));
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body).toMatchObject({ items: [{ id: e.id, url: "http://127.0.0.1:9/hook", enabled: true }] });
    expect(JSON.stringify(listed.body)).not.toContain("whsec_");

    const failed = await asRoot(`${base(e.t.id)}/${e.id}/deliveries?status=failed`);
    expect(failed.status, JSON.stringify(failed.body)).toBe(200);
    expect((failed.body.items as { message_id: string }[]).map((d) => d.message_id).sort()).toEqual(
      [...e.messages].sort(),
    );

    // Same body and limits as the tenant's route.
    const bad = await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: { limit: 101 } });
    expect(bad.status).toBe(400);
    const since = await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, {
      body: { since: "2026-03-01T00:00:00Z" },
    });
    expect(since.status, JSON.stringify(since.body)).toBe(200);
    expect(since.body).toEqual({ requeued: 1, remaining: 0 });
    expect((await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: {} })).body).toEqual({
      requeued: 1,
      remaining: 0,
    });
    expect(Object.values(await e.statusOf())).toEqual(["pending", "pending"]);

    // Counted after a marker through the endpoint's own outbox, which sends in order: the June
    // delivery (requeued first, so the head) given up again and sent again alone by the tenant's
    // admin, its entry found by X-Request-Id. A third entry a batch late would otherwise pass.
    const june = e.messages[1] ?? "";
    await giveUpBetweenAttempts(env.WEBHOOK_ENDPOINT.getByName(`${e.t.id}/${e.id}`), june, (sql) => {
      sql.exec("update deliveries set status = 'failed', next_attempt_at = null where message_id = ?", june);
    });
    await e.settled();
    // In the tenant's audit log as the platform's, as an enabling is (in the order the queue brought them).
    const entries = await auditOf(e.t.adminKey, "webhooks.deliveries.redelivered", 2);
    expect(entries, JSON.stringify(entries)).toHaveLength(2);
    expect(entries.map((x) => [x.actor, x.target, x.detail])).toEqual(
      expect.arrayContaining([
        [
          { kind: "platform", id: "platform" },
          `${e.t.id}/webhook/${e.id}/deliveries`,
          { endpoint_id: e.id, requeued: 1, remaining: 0, since: null, limit: 100 },
        ],
        [
          { kind: "platform", id: "platform" },
          `${e.t.id}/webhook/${e.id}/deliveries`,
          { endpoint_id: e.id, requeued: 1, remaining: 0, since: "2026-03-01T00:00:00.000Z", limit: 100 },
        ],
      ]),
    );
  });

  it("enables a disabled endpoint over the version it read, recorded as the platform's in the tenant's audit log", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const off = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    const refused = await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("endpoint_disabled");
    // The way to enable it that the caller can take: the platform's route, not the tenant's PATCH.
    expect(refused.body.detail).toContain(`POST /api/v1/platform/tenants/${e.t.id}/webhooks/${e.id}/enable`);
    expect(refused.body.detail).not.toContain("PATCH");

    const stale = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST", headers: { "if-match": '"1"' } });
    expect(stale.status).toBe(412);
    const on = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST" });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ id: e.id, enabled: true, disabled_reason: null, version: 3 });
    expect(on.headers.get("etag")).toBe('"3"');
    // Already enabled: answered as it is, no new version.
    const again = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ enabled: true, version: 3 });

    const entries = await auditOf(e.t.adminKey, "webhooks.endpoint.updated", 2);
    // Newest first: the platform's enabling, after the admin's disabling.
    expect(
      entries.map((x) => x.actor),
      JSON.stringify(entries),
    ).toEqual([{ kind: "platform", id: "platform" }, expect.objectContaining({ kind: "api_key" })]);
    expect((await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: {} })).body).toEqual({
      requeued: 1,
      remaining: 0,
    });
  });

  it("disables an endpoint over the version it read, recorded as the platform's: an operator stops a receiver's traffic with no key of the tenant", async () => {
    // Only the tenant could: an operator asked to stop a tenant's webhooks flooding a third party
    // had to suspend the whole tenant, or mint an admin key of it, to turn off one endpoint.
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const stale = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", headers: { "if-match": '"9"' } });
    expect(stale.status, JSON.stringify(stale.body)).toBe(412);
    const off = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST" });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toMatchObject({
      id: e.id,
      enabled: false,
      disabled_reason: "platform",
      disabled_note: null,
      version: 2,
    });
    expect(off.headers.get("etag")).toBe('"2"');
    // Already disabled: answered as it is, no new version.
    const again = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST" });
    expect(again.body).toMatchObject({ enabled: false, version: 2 });
    // The tenant sees it disabled, and nothing is redelivered to it.
    const read = await call(`/api/v1/admin/webhooks/${e.id}`, { token: e.t.adminKey });
    expect(read.body).toMatchObject({ enabled: false, version: 2 });
    expect((await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: {} })).status).toBe(409);
    const entries = await auditOf(e.t.adminKey, "webhooks.endpoint.updated", 1);
    expect(entries.map((x) => x.actor)).toEqual([{ kind: "platform", id: "platform" }]);
  });

  it("reaches a suspended tenant's endpoints (an operator still mends them)", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const suspended = await asRoot(`/api/v1/platform/tenants/${e.t.id}/suspend`, { method: "POST" });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    const listed = await asRoot(base(e.t.id));
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect((await asRoot(`${base(e.t.id)}/${e.id}/redeliver-failed`, { body: {} })).body).toEqual({
      requeued: 1,
      remaining: 0,
    });
  });
});

describe("platform webhook routes (security)", () => {
  it("answers 404 for an endpoint of another tenant through this tenant's path, as for an unknown one", async () => {
    const a = await newTenant("wh-plat-a");
    const b = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    for (const [method, suffix, body] of [
      ["GET", "/deliveries", undefined],
      ["POST", "/redeliver-failed", {}],
      ["POST", "/enable", undefined],
      ["POST", "/disable", undefined],
    ] as const) {
      const foreign = await asRoot(`${base(a.id)}/${b.id}${suffix}`, { method, ...(body ? { body } : {}) });
      expect(foreign.status, `${method} ${suffix}: ${JSON.stringify(foreign.body)}`).toBe(404);
      expect(foreign.body.code).toBe("not_found");
    }
    // Tenant A's list does not show B's endpoint; B's failed delivery is still failed.
    expect((await asRoot(base(a.id))).body).toEqual({ items: [], next_cursor: null });
    expect(Object.values(await b.statusOf())).toEqual(["failed"]);
  });

  it("answers 404 for an unknown tenant, and for a deleted one, as the tenants routes do", async () => {
    const unknown = await asRoot(base("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    expect(unknown.status).toBe(404);
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const deleted = await asRoot(`/api/v1/platform/tenants/${e.t.id}`, { method: "DELETE" });
    expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300);
    for (const path of [base(e.t.id), `${base(e.t.id)}/${e.id}/deliveries`]) {
      const gone = await asRoot(path);
      expect(gone.status, `${path}: ${JSON.stringify(gone.body)}`).toBe(404);
    }
  });

  it("refuses a tenant's key, even its own admin key", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const listed = await call(base(e.t.id), { token: e.t.adminKey });
    expect(listed.status).toBe(403);
    const redeliver = await call(`${base(e.t.id)}/${e.id}/redeliver-failed`, { token: e.t.adminKey, body: {} });
    expect(redeliver.status).toBe(403);
    expect(Object.values(await e.statusOf())).toEqual(["failed"]);
  });
});
