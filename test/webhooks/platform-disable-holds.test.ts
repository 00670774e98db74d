// An endpoint the platform disabled (POST /api/v1/platform/tenants/{tenant_id}/webhooks/{id}/disable)
// was enabled again by the tenant's own admin at once (PATCH { enabled: true }): the operator who
// stopped a flood or an abuse was undone by the tenant it was stopped for. Now the platform's
// disabling holds until the platform enables it: the tenant's re-enable is a 409 naming the
// operator's reason and what to do; its other edits stay allowed. The update event carries the
// reason the endpoint is disabled for and the operator's note, and the platform's audit entry too.
import { describe, expect, it } from "vitest";
import { auditOf, call, rootKey } from "../identity/helpers";
import { endpointWithFailures } from "./failures";

const base = (tenantId: string) => `/api/v1/platform/tenants/${tenantId}/webhooks`;
const asRoot = (path: string, options: { method?: string; body?: unknown } = {}) =>
  call(path, { token: rootKey(), ...options });
const REASON = "your receiver floods a third party; write to ops@example.com";
const ONE = ["2026-01-01T00:00:00.000Z"];

describe("an endpoint the platform disabled, held against the tenant's re-enable", () => {
  it("refuses the tenant's PATCH enabled: true with 409 naming the reason, and keeps it disabled", async () => {
    const e = await endpointWithFailures(ONE);
    const off = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);

    for (const body of [{ enabled: true }, { enabled: true, description: "again" }]) {
      const on = await call(`/api/v1/admin/webhooks/${e.id}`, { method: "PATCH", token: e.t.adminKey, body });
      expect(on.status, JSON.stringify(on.body)).toBe(409);
      expect(on.body.code).toBe("endpoint_disabled_by_platform");
      expect(on.body.detail).toContain(REASON);
      expect(on.body.detail).toContain("platform");
    }
    const read = await call(`/api/v1/admin/webhooks/${e.id}`, { token: e.t.adminKey });
    expect(read.body).toMatchObject({
      enabled: false,
      disabled_reason: "platform",
      disabled_note: REASON,
      version: 2,
      description: "",
    });
  });

  it("lets the tenant change its URL, filters, description and secret, and delete it, still disabled", async () => {
    const e = await endpointWithFailures(ONE);
    await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    const edited = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { url: "http://127.0.0.1:9/other", events: ["blog.post.created"], description: "fixed", enabled: false },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ enabled: false, disabled_reason: "platform", disabled_note: REASON });
    const rotated = await call(`/api/v1/admin/webhooks/${e.id}/rotate-secret`, { method: "POST", token: e.t.adminKey });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ enabled: false, disabled_reason: "platform" });
    const removed = await call(`/api/v1/admin/webhooks/${e.id}`, { method: "DELETE", token: e.t.adminKey });
    expect(removed.status).toBe(204);
  });

  it("is enabled by the platform's route, after which the tenant may disable and enable it as before", async () => {
    const e = await endpointWithFailures(ONE);
    await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    const on = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST" });
    expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_note: null });
    for (const enabled of [false, true]) {
      const res = await call(`/api/v1/admin/webhooks/${e.id}`, {
        method: "PATCH",
        token: e.t.adminKey,
        body: { enabled },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ enabled });
    }
  });

  it("holds one the tenant had disabled itself: the platform's disabling records its reason over it", async () => {
    const e = await endpointWithFailures(ONE);
    await call(`/api/v1/admin/webhooks/${e.id}`, { method: "PATCH", token: e.t.adminKey, body: { enabled: false } });
    const off = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: "platform", disabled_note: REASON, version: 3 });
    const on = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { enabled: true },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(409);
    // The same reason again writes nothing; another reason replaces it.
    const again = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    expect(again.body).toMatchObject({ version: 3 });
    const other = await asRoot(`${base(e.t.id)}/${e.id}/disable`, {
      method: "POST",
      body: { reason: "still flooding" },
    });
    expect(other.body).toMatchObject({ disabled_note: "still flooding", version: 4 });
  });

  it("records the platform's reason in the update event, as the tenant's audit log shows it", async () => {
    const e = await endpointWithFailures(ONE);
    await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    const [entry] = await auditOf(e.t.adminKey, "webhooks.endpoint.updated", 1);
    expect(entry?.actor).toEqual({ kind: "platform", id: "platform" });
    expect(entry?.detail).toEqual({ disabled_reason: "platform", disabled_note: REASON });
  });

  it("tells the tenant, when a test send or redelivery is refused, that the platform enables it, not their PATCH", async () => {
    // The 409 endpoint_disabled said "enable it first (PATCH … with enabled: true)": the one way
    // the platform's disabling refuses.
    const e = await endpointWithFailures(ONE);
    await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    const tries = [
      call(`/api/v1/admin/webhooks/${e.id}/test`, { method: "POST", token: e.t.adminKey }),
      e.redeliverFailed(),
    ];
    for (const refused of await Promise.all(tries)) {
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body.code).toBe("endpoint_disabled");
      expect(refused.body.detail).toContain(REASON);
      expect(refused.body.detail).toContain("the platform's operators");
      expect(refused.body.detail).not.toContain("enabled: true");
    }
  });
});
