// An endpoint's actor is first reached when something is routed to it (an event, a test message)
// or its config is pushed (an update, a rotation): creating an endpoint reaches none. Deleting one
// that nothing had reached yet scheduled the registry's purge anyway, and the purge opened the
// actor for the first time, for an endpoint that no longer existed: its constructor migrates the
// delivery schema, an object with storage and nothing in it, that nothing would ever remove.
import { listDurableObjectIds, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";

/** Whether the WebhookEndpoint actor of `<tenant>/<endpoint>` holds storage. */
async function hasActor(name: string): Promise<boolean> {
  const id = env.WEBHOOK_ENDPOINT.idFromName(name);
  return (await listDurableObjectIds(env.WEBHOOK_ENDPOINT)).some((o) => o.equals(id));
}

/** Runs the registry's timers due now (its purges) until none is left. */
async function drainRegistry(tenantId: string): Promise<void> {
  for (let i = 0; i < 10 && (await runDurableObjectAlarm(env.WEBHOOK_REGISTRY.getByName(tenantId))); i++);
}

async function endpointOf(t: { adminKey: string }): Promise<string> {
  const created = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "https://receiver.example.com/hook", events: ["blog.post.*"] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return String(created.body.id);
}

describe("webhooks: deleting an endpoint whose actor nothing reached", () => {
  it("opens no actor for it; one that was reached is still purged", async () => {
    const t = await newTenant("wh-unreached");
    const never = await endpointOf(t);
    const reached = await endpointOf(t);
    const test = await call(`/api/v1/admin/webhooks/${reached}/test`, { method: "POST", token: t.adminKey });
    expect(test.status, JSON.stringify(test.body)).toBe(202);
    expect(await hasActor(`${t.id}/${reached}`)).toBe(true);

    for (const id of [never, reached]) {
      const gone = await call(`/api/v1/admin/webhooks/${id}`, { method: "DELETE", token: t.adminKey });
      expect(gone.status, JSON.stringify(gone.body)).toBe(204);
    }
    await drainRegistry(t.id);

    expect(await hasActor(`${t.id}/${never}`)).toBe(false);
    const left = await call(`/api/v1/admin/webhooks/${reached}/deliveries`, { token: t.adminKey });
    expect(left.status).toBe(404);
    const { items } = await endpointActor(env, t.id, reached).deliveries({ limit: 10, cursor: null });
    expect(items).toEqual([]);
  });
});
