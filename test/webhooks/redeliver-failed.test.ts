// POST /api/v1/admin/webhooks/{id}/redeliver-failed: after an outage, every delivery given up
// went back one `…/deliveries/{delivery_id}/redeliver` at a time. One call now requeues them,
// a bounded number per call, saying how many remain.
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { endpointWithFailures } from "./failures";

describe("redelivering an endpoint's failed deliveries at once", () => {
  it("requeues those given up since `since`, then the rest a page at a time, saying how many remain", async () => {
    const e = await endpointWithFailures([
      "2026-01-01T00:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
      "2026-06-01T00:00:00.000Z",
    ]);
    const [old1, old2, recent] = e.messages;

    const since = await e.redeliverFailed({ since: "2026-03-01T00:00:00Z" });
    expect(since.status, JSON.stringify(since.body)).toBe(200);
    expect(since.body).toEqual({ requeued: 1, remaining: 0 });
    expect(await e.statusOf()).toEqual({ [old1 ?? ""]: "failed", [old2 ?? ""]: "failed", [recent ?? ""]: "pending" });

    expect((await e.redeliverFailed({ limit: 1 })).body).toEqual({ requeued: 1, remaining: 1 });
    expect((await e.redeliverFailed()).body).toEqual({ requeued: 1, remaining: 0 });
    expect(Object.values(await e.statusOf())).toEqual(["pending", "pending", "pending"]);
    expect((await e.redeliverFailed()).body).toEqual({ requeued: 0, remaining: 0 });
  });

  it("refuses a disabled endpoint (the messages would wait unsent), another tenant's, and a bad since", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const other = await newTenant();
    const foreign = await call(`/api/v1/admin/webhooks/${e.id}/redeliver-failed`, { token: other.adminKey, body: {} });
    expect(foreign.status).toBe(404);
    const bad = await e.redeliverFailed({ since: "yesterday" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("body.since");
    expect((await e.redeliverFailed({ limit: 101 })).status).toBe(400);
    const off = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    const refused = await e.redeliverFailed();
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "endpoint_disabled" });
    expect(Object.values(await e.statusOf())).toEqual(["failed"]);
  });
});
