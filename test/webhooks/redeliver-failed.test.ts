// POST /api/v1/admin/webhooks/{id}/redeliver-failed: after an outage, every delivery given up
// went back one `…/deliveries/{delivery_id}/redeliver` at a time. One call now requeues them,
// a bounded number per call, saying how many remain.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

type Delivery = { id: string; message_id: string; status: string };

/** An endpoint nothing answers for, with `failedAt.length` test messages given up at those times. */
async function endpointWithFailures(failedAt: string[]) {
  const t = await newTenant();
  const created = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
  });
  expect(created.status).toBe(201);
  const id = (created.body as { id: string }).id;
  const messages: string[] = [];
  for (const _ of failedAt) {
    const sent = await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    messages.push((sent.body as { message_id: string }).message_id);
  }
  const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
  // The head's first attempt done first: one still in flight would write its row back to pending.
  // The next waits for the backoff (30 s and more), and the others wait behind the head.
  const deadline = Date.now() + 10_000;
  const headTried = () =>
    runInDurableObject(
      endpoint,
      (_, state) => state.storage.sql.exec<{ n: number }>("select count(*) as n from attempts").one().n > 0,
    );
  while (!(await headTried())) {
    if (Date.now() > deadline) throw new Error("the endpoint made no attempt in 10 s");
    await runDurableObjectAlarm(endpoint);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Given up as three days of failed attempts would leave them, each at its own time.
  await runInDurableObject(endpoint, (_, state) => {
    messages.forEach((message, i) => {
      state.storage.sql.exec(
        "update deliveries set status = 'failed', next_attempt_at = null, updated_at = ? where message_id = ?",
        failedAt[i] ?? "",
        message,
      );
    });
  });
  const statusOf = async () => {
    const page = await call(`/api/v1/admin/webhooks/${id}/deliveries?limit=100`, { token: t.adminKey });
    const items = page.body.items as Delivery[];
    return Object.fromEntries(messages.map((m) => [m, items.find((d) => d.message_id === m)?.status]));
  };
  const redeliverFailed = (body: Record<string, unknown> = {}) =>
    call(`/api/v1/admin/webhooks/${id}/redeliver-failed`, { token: t.adminKey, body });
  return { t, id, messages, statusOf, redeliverFailed };
}

describe("redelivering an endpoint's failed deliveries at once", () => {
  it("requeues those given up since `since`, then the rest a page at a time, saying how many remain", async () => {
    const e = await endpointWithFailures([
      "2026-01-01T00:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
      "2026-06-01T00:00:00.000Z",
    ]);
    const [old1, old2, recent] = e.messages;

    const since = await e.redeliverFailed({ since: "2026-03-01T00:00:00Z" });
    expect(since.status, JSON.stringify(since.body)).toBe(200);
    expect(since.body).toEqual({ requeued: 1, remaining: 0 });
    expect(await e.statusOf()).toEqual({ [old1 ?? ""]: "failed", [old2 ?? ""]: "failed", [recent ?? ""]: "pending" });

    expect((await e.redeliverFailed({ limit: 1 })).body).toEqual({ requeued: 1, remaining: 1 });
    expect((await e.redeliverFailed()).body).toEqual({ requeued: 1, remaining: 0 });
    expect(Object.values(await e.statusOf())).toEqual(["pending", "pending", "pending"]);
    expect((await e.redeliverFailed()).body).toEqual({ requeued: 0, remaining: 0 });
  });

  it("refuses a disabled endpoint (the messages would wait unsent), another tenant's, and a bad since", async () => {
    const e = await endpointWithFailures(["2026-01-01T00:00:00.000Z"]);
    const other = await newTenant();
    const foreign = await call(`/api/v1/admin/webhooks/${e.id}/redeliver-failed`, { token: other.adminKey, body: {} });
    expect(foreign.status).toBe(404);
    const bad = await e.redeliverFailed({ since: "yesterday" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("body.since");
    expect((await e.redeliverFailed({ limit: 101 })).status).toBe(400);
    const off = await call(`/api/v1/admin/webhooks/${e.id}`, {
      method: "PATCH",
      token: e.t.adminKey,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    const refused = await e.redeliverFailed();
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "endpoint_disabled" });
    expect(Object.values(await e.statusOf())).toEqual(["failed"]);
  });
});
