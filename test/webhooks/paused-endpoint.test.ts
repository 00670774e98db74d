// An endpoint actor paused by its supervision (its delivery timer failed too often: a retired
// key version under its secret, say) refused every message, the registry's enqueue included. So
// the registry's dispatch threw for the whole tenant: each of the tenant's events went back to
// the queue for as long as the pause lasted (up to five minutes a time, doubling while the cause
// stays), and once past the queue's retries landed in the dead-letter queue, though every other
// endpoint had taken it and the paused one only had to keep it until it was running again.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { endpointActor, registry } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";

const HOUR = 3_600_000;

async function endpoint(token: string) {
  const hook = await call("/api/v1/admin/webhooks", {
    token,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  return String(hook.body.id);
}

async function postEvents(tenantId: string, token: string) {
  const post = await call("/api/v1/blog/posts", { token, body: { title: "Hello", content: "Body" } });
  expect(post.status, JSON.stringify(post.body)).toBe(201);
  return aggregateOf(env, postDecider, tenantId, String(post.body.id)).read(1, 100);
}

/**
 * Waits until the endpoint's first delivery attempt is over and its next one is seconds away (the
 * receiver's host does not resolve): a timer still running when the pause is set would record its
 * success after it, as a timer that ran before the pause would.
 */
async function idle(tenantId: string, id: string) {
  const stub = env.WEBHOOK_ENDPOINT.getByName(`${tenantId}/${id}`);
  for (let i = 0; i < 400; i++) {
    const quiet = await runInDurableObject(stub, async (instance, state) => {
      const now = Reflect.apply(Reflect.get(instance, "now"), instance, []) as number;
      const tried = state.storage.sql.exec<{ n: number }>("select count(*) as n from attempts").one().n > 0;
      const alarm = await state.storage.getAlarm();
      return tried && alarm !== null && alarm > now + 1_000;
    });
    if (quiet) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`endpoint ${id} made no first attempt in 10 s`);
}

/** Pauses an endpoint's actor for an hour of its own clock, as its supervision does after repeated failures. */
async function pause(tenantId: string, id: string) {
  await runInDurableObject(env.WEBHOOK_ENDPOINT.getByName(`${tenantId}/${id}`), (instance, state) => {
    const now = Reflect.apply(Reflect.get(instance, "now"), instance, []) as number;
    const paused = { failures: [], restarts: 3, pausedUntil: now + HOUR };
    state.storage.kv.put("actor.supervision", paused);
    Reflect.get(instance, "supervisor").state = paused;
  });
}

const messageIds = async (tenantId: string, id: string) =>
  (await endpointActor(env, tenantId, id).deliveries({ limit: 100, cursor: null })).items.map((d) => d.message_id);

describe("webhooks: an endpoint actor paused by its supervision", () => {
  it("still takes the events routed to it, so the tenant's dispatch neither fails nor waits for it", async () => {
    const t = await newTenant("wh-paused");
    const paused = await endpoint(t.adminKey);
    const running = await endpoint(t.adminKey);
    // Routed once, so both actors hold their configuration.
    expect((await registry(env, t.id).dispatch({ events: await postEvents(t.id, t.adminKey) })).routed).toBe(2);
    await idle(t.id, paused);
    await pause(t.id, paused);

    const events = await postEvents(t.id, t.adminKey);
    const reply = await registry(env, t.id).dispatch({ events });
    expect(reply.routed).toBe(2 * events.length);
    for (const id of [paused, running]) {
      const held = await messageIds(t.id, id);
      for (const e of events) expect(held.join(" ")).toContain(e.id);
    }
    // Taken, not run: still paused, and its alarm (the delivery timer's) waits for the pause's end.
    const still = await runInDurableObject(
      env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${paused}`),
      async (instance, state) => ({
        supervision: Reflect.apply(Reflect.get(instance, "supervisionState"), instance, []) as { pausedUntil: number },
        alarm: await state.storage.getAlarm(),
      }),
    );
    expect(still.supervision).toMatchObject({ restarts: 3 });
    expect(still.alarm).toBe(still.supervision.pausedUntil);
  });
});
