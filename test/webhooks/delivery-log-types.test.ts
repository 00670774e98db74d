import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newKey, newTenant } from "../identity/helpers";

// The delivery log showed each delivery's event type to anyone holding admin.webhooks.read:
// a key meant to watch the webhooks' health learnt when the tenant's keys were created, its
// roles changed and its sign-ins failed, which the API shows only to holders of
// admin.keys.read, admin.roles.read, admin.audit.read.

/** An admin's `*` endpoint with two deliveries in its log: a test message, and a key created. */
async function endpointWithLog() {
  const t = await newTenant("log-types");
  const made = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "https://hooks.example.com/in", events: ["*"] },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const id = made.body.id as string;
  const send = () => call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
  const [test, key] = [await send(), await send()];
  expect([test.status, key.status]).toEqual([202, 202]);
  // The second stands for an event the endpoint followed: a key created.
  await runInDurableObject(env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`), (_, state) => {
    state.storage.sql.exec(
      "update deliveries set event_type = 'identity.key.created' where message_id = ?",
      key.body.message_id as string,
    );
  });
  return { ...t, id, test: test.body.message_id as string, key: key.body.message_id as string };
}

describe("the delivery log and the event types the caller may read", () => {
  it("lists every delivery, each with its type only to a caller holding the permission that reads it", async () => {
    const t = await endpointWithLog();
    const log = async (token: string) => {
      const res = await call(`/api/v1/admin/webhooks/${t.id}/deliveries`, { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const items = res.body.items as { id: string; message_id: string; event_type?: string; status: string }[];
      return Object.fromEntries(items.map((d) => [d.message_id, d]));
    };

    const watcher = await newKey(t.adminKey, ["admin.webhooks.read"]);
    const seen = await log(watcher.key);
    // Both deliveries, with their state; the key's creation without its type. The `*` endpoint may
    // also have been sent real events by now (the queue's pace): the creation of `watcher`, hidden
    // alike, and the endpoint's own creation, a `webhooks.*` type this permission reads (shown).
    expect(Object.keys(seen)).toEqual(expect.arrayContaining([t.key, t.test]));
    expect(seen[t.test]).toMatchObject({ event_type: "webhooks.test" });
    expect(seen[t.key]).not.toHaveProperty("event_type");
    for (const [messageId, delivery] of Object.entries(seen)) {
      if (messageId === t.test || delivery.event_type === undefined) continue;
      expect(delivery.event_type).toMatch(/^webhooks\./);
    }
    expect(seen[t.key]).toMatchObject({ status: expect.any(String) });

    const one = await call(`/api/v1/admin/webhooks/${t.id}/deliveries/${seen[t.key]?.id}`, { token: watcher.key });
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty("event_type");
    expect(one.body).toMatchObject({ id: seen[t.key]?.id, attempt_log: expect.any(Array) });

    // A key that reads keys sees it, as the owner does.
    const keys = await newKey(t.adminKey, ["admin.webhooks.read", "admin.keys.read"]);
    expect((await log(keys.key))[t.key]).toMatchObject({ event_type: "identity.key.created" });
    expect((await log(t.adminKey))[t.key]).toMatchObject({ event_type: "identity.key.created" });
  });
});
