// An endpoint's actor is first reached when something is routed to it or its config is pushed;
// until then it has nothing to show. Its reads (the endpoint's GET with its delivery health, the
// delivery log, one delivery, a redelivery) and `plinth crypto versions`/`reencrypt` opened it
// anyway: the actor's constructor lays its schema down, and the object, holding nothing, outlived
// the endpoint (deleting an endpoint nothing reached purges no actor). The registry, which knows
// whether it reached the endpoint, answers those itself now.
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

/** Whether the WebhookEndpoint actor of `<tenant>/<endpoint>` holds storage. */
async function hasActor(name: string): Promise<boolean> {
  const id = env.WEBHOOK_ENDPOINT.idFromName(name);
  return (await listDurableObjectIds(env.WEBHOOK_ENDPOINT)).some((o) => o.equals(id));
}

type Tenant = { id: string; adminKey: string };
type Json = Record<string, unknown>;

/** Each read of an unreached endpoint, with what it answers: the status and, where it has one, the body. */
const reads: [string, (t: Tenant, id: string) => Promise<{ status: number; body: Json }>, number, Json?][] = [
  [
    "the endpoint with its delivery health",
    (t, id) => call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey }),
    200,
    { delivery: { breaker: "closed", failing_since: null, failures: 0, pending: 0 } },
  ],
  [
    "its delivery log",
    (t, id) => call(`/api/v1/admin/webhooks/${id}/deliveries`, { token: t.adminKey }),
    200,
    { items: [], next_cursor: null },
  ],
  [
    "the platform's view of its delivery log",
    (t, id) => call(`/api/v1/platform/tenants/${t.id}/webhooks/${id}/deliveries`, { token: rootKey() }),
    200,
    { items: [], next_cursor: null },
  ],
  ["one delivery", (t, id) => call(`/api/v1/admin/webhooks/${id}/deliveries/nope`, { token: t.adminKey }), 404],
  [
    "a redelivery",
    (t, id) => call(`/api/v1/admin/webhooks/${id}/deliveries/nope/redeliver`, { method: "POST", token: t.adminKey }),
    404,
  ],
  [
    "a redelivery of what failed",
    (t, id) => call(`/api/v1/admin/webhooks/${id}/redeliver-failed`, { token: t.adminKey, body: { limit: 10 } }),
    200,
    { requeued: 0, remaining: 0 },
  ],
  [
    "the count of sealed values by key version",
    (t) => call(`/api/v1/platform/crypto/versions?tenant_id=${t.id}`, { token: rootKey() }),
    200,
  ],
  [
    "a re-encryption",
    (t) =>
      call("/api/v1/platform/crypto/reencrypt", {
        token: rootKey(),
        body: { tenant_id: t.id },
        headers: { "idempotency-key": crypto.randomUUID() },
      }),
    200,
  ],
];

describe("webhooks: reading an endpoint whose actor nothing reached", () => {
  it.each(reads)("%s opens no actor", async (_, read, status, body) => {
    const t = await newTenant("wh-unread");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://receiver.example.com/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);

    const answer = await read(t, id);
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    if (body) expect(answer.body).toMatchObject(body);
    expect(await hasActor(`${t.id}/${id}`)).toBe(false);
  });
});
