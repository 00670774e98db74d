// A tenant's webhook objects, once its erasure has reached them, stay empty: a late
// dispatch (a queue batch that checked the tenant before its DELETE), a test delivery or
// a config push must not hand an endpoint actor the erased tenant's sealed secret or
// events again, nor the registry a new endpoint that the erasure would never list.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookRegistry } from "../../src/index";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { endpointActor, registry } from "../../src/modules/webhooks/contract";
import { webhooksErasure } from "../../src/modules/webhooks/erasure";
import { testRuntime } from "../helpers";
import { call, newTenant } from "../identity/helpers";

const ctx = { now: "2026-06-01T00:00:00.000Z", actor: { kind: "api_key" as const, id: "late" }, requestId: null };

/** A tenant with one endpoint (blog.post.*) whose actor holds its config, and a post's events to route to it. */
async function tenantWithEndpoint(prefix: string) {
  const t = await newTenant(prefix);
  const hook = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hello", content: "Body" } });
  expect(post.status, JSON.stringify(post.body)).toBe(201);
  const events = await aggregateOf(env, postDecider, t.id, String(post.body.id)).read(1, 100);
  expect(events.length).toBeGreaterThan(0);
  const hookId = hook.body.id as string;
  const endpoint = endpointActor(env, t.id, hookId);
  // Routed once while the tenant lives: the actor holds a copy of the sealed secret.
  expect((await registry(env, t.id).dispatch({ events })).routed).toBeGreaterThan(0);
  expect((await endpoint.sealedSecrets({})).length).toBe(1);
  return { ...t, hookId, endpoint, events };
}

/** What an endpoint actor holds of its tenant: sealed secrets and deliveries. */
async function held(endpoint: ReturnType<typeof endpointActor>) {
  return {
    secrets: await endpoint.sealedSecrets({}),
    deliveries: (await endpoint.deliveries({ limit: 100, cursor: null })).items,
  };
}

describe("webhooks: an erased tenant's objects stay erased", () => {
  it("an endpoint actor erased before its registry takes no late dispatch, test delivery or config", async () => {
    const t = await tenantWithEndpoint("lw1");
    await t.endpoint.eraseAll({ tenant_id: t.id });
    expect(await held(t.endpoint)).toEqual({ secrets: [], deliveries: [] });

    // The registry (not yet erased) still routes and pushes to it: each is ignored.
    await registry(env, t.id).dispatch({ events: t.events });
    await registry(env, t.id).sendTest({ ctx, tenant_id: t.id, id: t.hookId, message_id: "msg_late_test" });
    expect(await held(t.endpoint)).toEqual({ secrets: [], deliveries: [] });
  });

  it("after the webhooks erasure, a late dispatch, create or test delivery re-populates nothing", async () => {
    const t = await tenantWithEndpoint("lw2");
    await webhooksErasure.erase?.(t.id, testRuntime());

    // Refused as erased: the queue consumer drops the events (kernel/events/consume.ts).
    await expect(registry(env, t.id).dispatch({ events: t.events })).rejects.toThrow(/^TenantErased: /);
    const endpoint = {
      id: "ep_late",
      url: "https://hooks.example.com/late",
      description: "",
      events: ["*"],
      reads: [],
    };
    await expect(
      registry(env, t.id).create({ ctx, tenant_id: t.id, endpoint: { ...endpoint, sealed_secret: "v1.sealed" } }),
    ).rejects.toThrow(/erased/);
    expect((await registry(env, t.id).list({ limit: 100, cursor: null })).items).toEqual([]);
    expect(await registry(env, t.id).sealedSecrets({})).toEqual([]);
    expect(await held(t.endpoint)).toEqual({ secrets: [], deliveries: [] });
  });

  it("an erasure that dies after its first step already refuses new endpoints and routes nothing", async () => {
    const t = await tenantWithEndpoint("lw3");
    // The endpoint actors are unreachable: the run dies before erasing any of them, or the registry.
    const unreachable: Env["WEBHOOK_ENDPOINT"] = Object.create(env.WEBHOOK_ENDPOINT, {
      getByName: {
        value: () => {
          throw new Error("endpoint actors unreachable");
        },
      },
    });
    const broken: Env = { ...env, WEBHOOK_ENDPOINT: unreachable };
    await expect(webhooksErasure.erase?.(t.id, { ...testRuntime(), env: broken })).rejects.toThrow(/unreachable/);

    // An admin request already in flight when the tenant was deleted creates an endpoint: refused,
    // as the rerun's list would miss it only if it were created after that list.
    const endpoint = {
      id: "ep_racing",
      url: "https://hooks.example.com/race",
      description: "",
      events: ["*"],
      reads: [],
    };
    await expect(
      registry(env, t.id).create({ ctx, tenant_id: t.id, endpoint: { ...endpoint, sealed_secret: "v1.sealed" } }),
    ).rejects.toThrow(/erased/);
    // A late batch is refused, so no actor gets anything the rerun would have to erase again.
    await expect(registry(env, t.id).dispatch({ events: t.events })).rejects.toThrow(/^TenantErased: /);
    const racing = endpointActor(env, t.id, endpoint.id);
    expect(await held(racing)).toEqual({ secrets: [], deliveries: [] });

    // The rerun erases what there is.
    await webhooksErasure.erase?.(t.id, testRuntime());
    expect(await held(t.endpoint)).toEqual({ secrets: [], deliveries: [] });
    expect((await registry(env, t.id).list({ limit: 100, cursor: null })).items).toEqual([]);
  });

  it("erases the actor of an endpoint removed just before, whose purge had not run yet", async () => {
    const t = await tenantWithEndpoint("lw4");
    // Removed, its purge still pending (the actor was unreachable, say, and the timer backs off).
    const stub = env.WEBHOOK_REGISTRY.getByName(t.id);
    await runInDurableObject(stub, async (instance: InstanceType<typeof WebhookRegistry>, state) => {
      expect(await instance.remove({ ctx, tenant_id: t.id, id: t.hookId })).toMatchObject({ ok: true });
      state.storage.sql.exec(
        "update actor_timers set at = ? where key = ?",
        Date.now() + 3_600_000,
        `purge:${t.hookId}`,
      );
    });
    expect((await t.endpoint.sealedSecrets({})).length).toBe(1);

    await webhooksErasure.erase?.(t.id, testRuntime());
    // The registry's timers went with it: the erasure itself emptied the removed endpoint's actor.
    expect(await held(t.endpoint)).toEqual({ secrets: [], deliveries: [] });
  });
});
