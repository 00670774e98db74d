// Each writer numbers the versions of its own streams (kernel/actors/events.ts): an endpoint's
// actor that wrote its escalations to the registry's `<tenant>/webhook/<id>` gave that stream two
// version 1s, which a projection, the stream catalog or a replay reads as one event duplicated.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

describe("an endpoint actor's own events", () => {
  it("escalate to a stream of the actor's own, not the registry's stream of the endpoint", async () => {
    const t = await newTenant("wh-streams");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    // A test delivery hands the endpoint's actor its configuration (tenant and endpoint).
    const sent = await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    let address: unknown = null;
    for (let i = 0; i < 200 && address === null; i++) {
      address = await runInDurableObject(stub, (instance) =>
        Reflect.apply(Reflect.get(instance, "escalationAddress"), instance, []),
      );
      if (address === null) await new Promise((r) => setTimeout(r, 25));
    }
    expect(address).toEqual({ tenantId: t.id, stream: `${t.id}/webhook/${id}/deliveries` });
  });
});
