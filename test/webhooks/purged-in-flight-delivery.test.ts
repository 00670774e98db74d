// An endpoint actor reads the head of its queue, then awaits its permit, its secrets and the
// receiver: other messages run meanwhile. A purge (its endpoint deleted) that landed then emptied
// the actor, and the attempt, ending, recorded itself on the row it had read: its log row (with
// the receiver's response) and the endpoint's breaker and streak were written back into the
// emptied actor, where nothing deletes them.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebhookEndpoint } from "../../src/index";
import { endpointActor, registry } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";
import { until } from "../kernel/outbox-events";

afterEach(() => {
  vi.restoreAllMocks();
});

type Stub = Pick<ReturnType<typeof registry>, "acquire" | "release" | "disabled">;

describe("webhooks: a delivery in flight when its endpoint actor is purged", () => {
  it("leaves no log row, breaker or streak in the emptied actor", async () => {
    const t = await newTenant("wh-purged-inflight");
    const path = `/purged-in-flight/${crypto.randomUUID()}`;
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `http://127.0.0.1:8810${path}`, events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const endpointId = String(created.body.id);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${endpointId}`);

    // The receiver holds its answer until the purge has run.
    let reached = false;
    let answer = () => {};
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const original = globalThis.fetch;
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname !== path) return original(input, init);
      reached = true;
      await held;
      return new Response("ok");
    };
    // The permit's release comes right before the attempt is recorded, in the same turn.
    let released = false;
    await runInDurableObject(stub, (instance: InstanceType<typeof WebhookEndpoint>) => {
      const releasing = {
        getByName(name: string): Stub {
          const real = registry(env, name);
          return {
            acquire: (args) => real.acquire(args),
            release: async (args) => {
              const reply = await real.release(args);
              released = true;
              return reply;
            },
            disabled: (args) => real.disabled(args),
          };
        },
      };
      Object.defineProperty(instance, "env", { value: { ...env, WEBHOOK_REGISTRY: releasing } });
    });
    try {
      const sent = await call(`/api/v1/admin/webhooks/${endpointId}/test`, { method: "POST", token: t.adminKey });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      await until("the attempt at the receiver", () => reached);
      // As the registry's purge timer does once the endpoint is deleted. The attempt still running
      // would write its outcome into storage emptied under it: the storage stays, for now.
      expect(await endpointActor(env, t.id, endpointId).purge({})).toEqual({ emptied: false });
      answer();
      await until("the attempt's permit released", () => released);
    } finally {
      globalThis.fetch = original;
    }
    const left = await runInDurableObject(stub, (_, state) => ({
      deliveries: state.storage.sql.exec("select count(*) as n from deliveries").one().n,
      attempts: state.storage.sql.exec("select count(*) as n from attempts").one().n,
      breaker: state.storage.kv.get("endpoint.breaker") ?? null,
      streak: state.storage.kv.get("endpoint.streak") ?? null,
    }));
    expect(left).toEqual({ deliveries: 0, attempts: 0, breaker: null, streak: null });
    // The registry's purge, sent again once the attempt has ended, empties it.
    const purge = () => endpointActor(env, t.id, endpointId).purge({});
    await until("a purge once the attempt's alarm has ended", async () => (await purge()).emptied);
    const tables = await runInDurableObject(stub, (_, state) =>
      state.storage.sql
        .exec("select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\'")
        .toArray(),
    );
    expect(tables).toEqual([]);
  });
});
