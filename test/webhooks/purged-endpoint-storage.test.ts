// A deleted endpoint's actor is purged by a registry timer. The purge deleted the actor's rows and
// keys but not its storage: its tables (deliveries, attempts, timers, outbox, streams) and their
// schema records stayed, for every endpoint ever deleted, in an object nothing would open again.
// A purge that lands now leaves the object with no storage at all.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";
import { until } from "../kernel/outbox-events";

/** What the object's storage holds: its own tables, its keys, its alarm. */
const storageOf = (stub: DurableObjectStub) =>
  runInDurableObject(stub, async (_, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\'",
      )
      .toArray()
      .map((r) => r.name),
    keys: [...state.storage.kv.list()].map(([key]) => key),
    alarm: await state.storage.getAlarm(),
  }));

describe("webhooks: the purge of a deleted endpoint's actor", () => {
  it("leaves the actor with no storage", async () => {
    const t = await newTenant("wh-purge-storage");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://receiver.example.com/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    // Disabled, its config is pushed to its actor, which then holds messages it does not send.
    const off = await call(`/api/v1/admin/webhooks/${id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { enabled: false },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    // The registry's own alarm pushes it (not one run by hand, which can race the real one).
    const actor = endpointActor(env, t.id, id);
    await until("the config pushed to the actor", async () => (await actor.sealedSecrets({})).length > 0);
    const config = { tenant_id: t.id, endpoint_id: id, url: "https://receiver.example.com/hook", enabled: false };
    const queued = await actor.enqueue({
      config: { ...config, secrets: [{ sealed: "v1.x", expires_at: null }], version: 2 },
      messages: [{ message_id: "m1", type: "blog.post.created", occurred_at: "2026-01-01T00:00:00Z", body: "{}" }],
    });
    expect(queued.queued).toBe(1);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    expect((await storageOf(stub)).tables).toContain("deliveries");

    const gone = await call(`/api/v1/admin/webhooks/${id}`, { method: "DELETE", token: t.adminKey });
    expect(gone.status, JSON.stringify(gone.body)).toBe(204);
    const empty = { tables: [], keys: [], alarm: null };
    await until("the purge landed", async () => JSON.stringify(await storageOf(stub)) === JSON.stringify(empty));
    expect(await storageOf(stub)).toEqual(empty);
  });
});
