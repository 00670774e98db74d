// An endpoint with deliveries given up, for the tests of redelivering them (the tenant's route,
// redeliver-failed.test.ts and endpoints.test.ts; the platform's, platform-routes.test.ts).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, type Entry, newTenant } from "../identity/helpers";

type Delivery = { id: string; message_id: string; status: string };

/**
 * Runs `giveUp` on the endpoint actor's SQL once its head (`head`, a message id) has had its
 * first attempt and none is in flight: an attempt in flight writes its row back to pending when
 * it ends, undoing a status set meanwhile. "The first attempt is logged" is not enough, as the
 * retry's wait is drawn from [0, 30 s] (full jitter) and may be a few milliseconds. An attempt
 * starts only once its row's next_attempt_at has passed and sets the next one when it ends, so a
 * head whose next attempt is still ahead has none in flight; the check and `giveUp` run in one
 * synchronous turn of the actor, so none starts between them. Later messages wait behind the head.
 */
export async function giveUpBetweenAttempts(
  endpoint: DurableObjectStub,
  head: string,
  giveUp: (sql: SqlStorage) => void,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  const done = () =>
    runInDurableObject(endpoint, (_, state) => {
      const sql = state.storage.sql;
      const tried = sql.exec<{ n: number }>("select count(*) as n from attempts").one().n > 0;
      const [row] = sql
        .exec<{ next_attempt_at: number | null }>("select next_attempt_at from deliveries where message_id = ?", head)
        .toArray();
      if (!tried || (row?.next_attempt_at ?? 0) <= Date.now()) return false;
      giveUp(sql);
      return true;
    });
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("the endpoint's head was not between attempts within 10 s");
    await runDurableObjectAlarm(endpoint);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
  // Given up as three days of failed attempts would leave them, each at its own time.
  await giveUpBetweenAttempts(endpoint, messages[0] ?? "", (sql) => {
    messages.forEach((message, i) => {
      sql.exec(
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
  /**
   * A settle marker through the endpoint's own outbox: the first given-up delivery listed is sent
   * again alone, and its `webhooks.delivery.redelivered` entry waited for (entryOfRequest), so every
   * entry the endpoint wrote before it is in the log too. Needs a delivery still given up.
   */
  const settled = async () => {
    const page = await call(`/api/v1/admin/webhooks/${id}/deliveries?status=failed`, { token: t.adminKey });
    const [left] = page.body.items as { id: string }[];
    const marker = await call(`/api/v1/admin/webhooks/${id}/deliveries/${left?.id}/redeliver`, {
      method: "POST",
      token: t.adminKey,
    });
    expect(marker.status, JSON.stringify(marker.body)).toBe(202);
    await entryOfRequest(t.adminKey, "webhooks.delivery.redelivered", marker.headers.get("x-request-id"));
  };
  return { t, id, messages, statusOf, redeliverFailed, settled };
}

/**
 * The tenant's audit entry of `action` that the request `requestId` recorded, once it is in the
 * log. An endpoint's actor sends its entries through its own outbox, in order: once a marker
 * action's entry is in, every entry that endpoint wrote before it is too (auditSettled's marker
 * goes through the tenant directory's outbox, so it says nothing of these).
 */
export async function entryOfRequest(token: string, action: string, requestId: string | null): Promise<Entry> {
  expect(requestId).toBeTruthy();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call(`/api/v1/admin/audit?action=${action}&limit=100`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const found = (res.body.items as Entry[]).find((e) => e.request_id === requestId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${action} entry of request ${requestId} in 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
