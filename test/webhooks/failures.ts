// An endpoint with deliveries given up, for the tests of redelivering them (the tenant's route,
// redeliver-failed.test.ts; the platform's, platform-routes.test.ts).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, newTenant } from "../identity/helpers";

type Delivery = { id: string; message_id: string; status: string };

/** An endpoint nothing answers for, with `failedAt.length` test messages given up at those times. */
export async function endpointWithFailures(failedAt: string[]) {
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
