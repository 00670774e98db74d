// An endpoint the platform disabled (POST /api/v1/platform/tenants/{tenant_id}/webhooks/{id}/disable)
// showed the tenant's admins `disabled_reason: null`, as if one of them had disabled it (the CLI
// printed "no (by an admin)"): only the audit entry named the platform, and nothing said why. Now
// the endpoint says `disabled_reason: "platform"` with the operator's reason (`disabled_note`),
// and nothing of the operator beyond the audit entry's `{ kind: "platform", id: "platform" }`.
import { describe, expect, it } from "vitest";
import { auditOf, call, rootKey } from "../identity/helpers";
import { endpointWithFailures } from "./failures";

const base = (tenantId: string) => `/api/v1/platform/tenants/${tenantId}/webhooks`;
const asRoot = (path: string, options: { method?: string; body?: unknown } = {}) =>
  call(path, { token: rootKey(), ...options });
const REASON = "your receiver answered 2000 requests a second with 500; write to ops@example.com";

describe("an endpoint disabled by the platform, as its tenant's admins see it", () => {
  it("says it was the platform and the operator's reason, in the endpoint and the list; enabling clears both", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const off = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason: REASON } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: "platform", disabled_note: REASON, version: 2 });

    const read = await call(`/api/v1/admin/webhooks/${e.id}`, { token: e.t.adminKey });
    expect(read.body).toMatchObject({ enabled: false, disabled_reason: "platform", disabled_note: REASON });
    const listed = await call("/api/v1/admin/webhooks", { token: e.t.adminKey });
    expect(listed.body.items).toMatchObject([{ id: e.id, disabled_reason: "platform", disabled_note: REASON }]);
    // Who at the platform: no more than the audit entry's actor says.
    const [entry] = await auditOf(e.t.adminKey, "webhooks.endpoint.updated", 1);
    expect(entry?.actor).toEqual({ kind: "platform", id: "platform" });

    // The platform enables it again (the tenant's admin may not: platform-disable-holds.test.ts):
    // the platform's reason goes with the state.
    const on = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST" });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_note: null });
  });

  it("says the platform without a reason when none was given, and an admin's own disabling names neither", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const off = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST" });
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: "platform", disabled_note: null });
    const on = await asRoot(`${base(e.t.id)}/${e.id}/enable`, { method: "POST" });
    expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_note: null });

    const byAdmin = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { enabled: false },
    });
    expect(byAdmin.body).toMatchObject({ enabled: false, disabled_reason: null, disabled_note: null });
  });

  it("refuses a reason that is empty, too long or holds control characters (400), and disables nothing", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    for (const reason of ["", "x".repeat(201), "line\nbreak"]) {
      const bad = await asRoot(`${base(e.t.id)}/${e.id}/disable`, { method: "POST", body: { reason } });
      expect(bad.status, JSON.stringify(bad.body)).toBe(400);
      expect(bad.body.code).toBe("validation_failed");
    }
    const read = await call(`/api/v1/admin/webhooks/${e.id}`, { token: e.t.adminKey });
    expect(read.body).toMatchObject({ enabled: true, version: 1 });
  });
});
