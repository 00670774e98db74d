// A purge its endpoint's actor could not finish (a delivery in flight would write its outcome
// back into storage emptied under it) leaves the actor's storage for now: the registry sends the
// purge again later, so the storage still goes once the delivery has ended.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookRegistry } from "../../src/index";
import { call, newTenant } from "../identity/helpers";

describe("webhooks: a purge its endpoint's actor could not finish", () => {
  it("is sent again later", async () => {
    const t = await newTenant("wh-purge-again");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://receiver.example.com/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const before = Date.now();

    const pending = await runInDurableObject(
      env.WEBHOOK_REGISTRY.getByName(t.id),
      async (instance: InstanceType<typeof WebhookRegistry>, state) => {
        // Its endpoint actors answer as one with a delivery in flight does.
        const busy = { getByName: () => ({ purge: async () => ({ emptied: false }) }) };
        Object.defineProperty(instance, "env", { value: { ...env, WEBHOOK_ENDPOINT: busy } });
        try {
          await Reflect.apply(Reflect.get(instance, "onTimer"), instance, [{ kind: "purge", id }]);
        } finally {
          Object.defineProperty(instance, "env", { value: env });
        }
        return state.storage.sql
          .exec<{ at: number }>("select at from actor_timers where key = ?", `purge:${id}`)
          .toArray()
          .map((r) => r.at);
      },
    );
    expect(pending).toHaveLength(1);
    expect(pending[0]).toBeGreaterThan(before + 30_000);
  });
});
