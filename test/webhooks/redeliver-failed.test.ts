// POST /api/v1/admin/webhooks/{id}/redeliver-failed: after an outage, every delivery given up
// went back one `…/deliveries/{delivery_id}/redeliver` at a time. One call now requeues them,
// a bounded number per call, saying how many remain.
import { describe, expect, it } from "vitest";
import { auditOf, call, newTenant } from "../identity/helpers";
import { endpointWithFailures, entryOfRequest } from "./failures";

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

  it("records who redelivered which endpoint's deliveries, how many and since when in the tenant's audit log", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"]);
    // Nothing given up since then: nothing resent, nothing recorded.
    expect((await e.redeliverFailed({ since: "2026-07-01T00:00:00Z" })).body).toEqual({ requeued: 0, remaining: 0 });
    const done = await e.redeliverFailed({ since: "2026-03-01T00:00:00+02:00", limit: 5 });
    expect(done.body).toEqual({ requeued: 1, remaining: 0 });

    // Counted after a marker through the endpoint's own outbox (the January delivery, still
    // given up, sent again alone): a second entry a batch late would otherwise pass.
    await e.settled();
    const entries = await auditOf(e.t.adminKey, "webhooks.deliveries.redelivered");
    expect(entries, JSON.stringify(entries)).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: { kind: "api_key" },
      target: `${e.t.id}/webhook/${e.id}/deliveries`,
      request_id: done.headers.get("x-request-id"),
      detail: { endpoint_id: e.id, requeued: 1, remaining: 0, since: "2026-02-28T22:00:00.000Z", limit: 5 },
    });
  });

  it("records a single delivery sent again (`…/deliveries/{delivery_id}/redeliver`) in the audit log too", async () => {
    // Two given up: the second is sent again by redeliver-failed after, as a marker.
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"]);
    const page = await call(`/api/v1/admin/webhooks/${e.id}/deliveries?status=failed`, { token: e.t.adminKey });
    const [failed] = page.body.items as { id: string; message_id: string }[];
    const again = await call(`/api/v1/admin/webhooks/${e.id}/deliveries/${failed?.id}/redeliver`, {
      method: "POST",
      token: e.t.adminKey,
    });
    expect(again.status, JSON.stringify(again.body)).toBe(202);

    // Counted after the marker's entry (the endpoint's outbox sends in order): a second entry of
    // the single redelivery a batch late would otherwise pass.
    const marker = await e.redeliverFailed();
    expect(marker.body).toEqual({ requeued: 1, remaining: 0 });
    await entryOfRequest(e.t.adminKey, "webhooks.deliveries.redelivered", marker.headers.get("x-request-id"));
    const entries = await auditOf(e.t.adminKey, "webhooks.delivery.redelivered");
    expect(entries, JSON.stringify(entries)).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: { kind: "api_key" },
      target: `${e.t.id}/webhook/${e.id}/deliveries`,
      request_id: again.headers.get("x-request-id"),
      detail: { endpoint_id: e.id, delivery_id: failed?.id, message_id: failed?.message_id },
    });
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
    expect(refused.body.detail).toContain(`PATCH /api/v1/admin/webhooks/${e.id} with enabled: true`);
    expect(Object.values(await e.statusOf())).toEqual(["failed"]);
  });
});
