// A deleted endpoint's purge sends what its actor's outbox holds before emptying the storage. The
// tenant's erasure lists that endpoint while its purge timer is still stored, and erases its actor:
// landing during the purge's send, it left the tombstone, which the purge's emptying then deleted.
// The actor was then as if never opened, and a late enqueue or config push (what the tombstone is
// there to refuse) would bring the erased tenant's endpoint back into it.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookEndpoint } from "../../src/index";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";
import { until } from "../kernel/outbox-events";

describe("webhooks: a tenant's erasure landing while a deleted endpoint's purge sends its outbox", () => {
  it("keeps the actor's tombstone", async () => {
    const t = await newTenant("wh-purge-erase-race");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://receiver.example.com/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const actor = endpointActor(env, t.id, id);
    const config = { tenant_id: t.id, endpoint_id: id, url: "https://receiver.example.com/hook", enabled: true };
    await actor.configure({ config: { ...config, secrets: [{ sealed: "v1.x", expires_at: null }], version: 1 } });

    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    const after = await runInDurableObject(stub, async (instance: InstanceType<typeof WebhookEndpoint>, state) => {
      // An event the actor recorded, still unsent: the purge sends it before it empties anything.
      state.storage.sql.exec(
        "insert into outbox (id, type, event, created_at) values (?, ?, ?, ?)",
        crypto.randomUUID(),
        "webhooks.delivery.redelivered",
        JSON.stringify({ id: "e1" }),
        new Date().toISOString(),
      );
      let sending = false;
      let land = () => {};
      const landed = new Promise<void>((resolve) => {
        land = resolve;
      });
      const queue = {
        sendBatch: async () => {
          sending = true;
          await landed;
        },
      };
      Object.defineProperty(instance, "env", { value: { ...env, EVENTS: queue } });
      try {
        const purge = instance.purge({});
        await until("the purge sending the outbox", () => sending);
        // The erasure, landing while the send awaits.
        await instance.eraseAll({ tenant_id: t.id });
        land();
        const reply = await purge;
        return { reply, erased: state.storage.kv.get("actor.erased") ?? null };
      } finally {
        Object.defineProperty(instance, "env", { value: env });
      }
    });
    expect(after.erased).toBe(true);
    expect(after.reply).toEqual({ emptied: true });
  });
});
