import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { destroyTenantKeys } from "../../src/modules/identity/key-material";
import { registry } from "../../src/modules/webhooks/contract";
import { call, newTenant, newUser } from "../identity/helpers";
import { giveUpBetweenAttempts } from "./failures";

type Json = Record<string, unknown>;

/**
 * Runs an endpoint's alarm until `check` passes (or 10 s pass). Alarms due
 * now also fire on their own in the test runtime, so a test waits for the
 * outcome instead of counting alarm runs.
 */
async function until<T>(endpoint: DurableObjectStub, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error("condition not reached in 10 s");
    await runDurableObjectAlarm(endpoint);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createEndpoint(adminKey: string, body: Json = {}) {
  const res = await call("/api/v1/admin/webhooks", {
    token: adminKey,
    body: { url: "https://hooks.example.com/plinth?token=abc", events: ["blog.post.*"], ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string; secret: string; version: number };
}

describe("webhook endpoints (happy)", () => {
  it("creates an endpoint whose secret is shown once, then lists, reads, changes and deletes it", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey, { description: "orders" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ url: "https://hooks.example.com/plinth?token=abc", events: ["blog.post.*"] });
    expect(created).toMatchObject({ enabled: true, version: 1, description: "orders", disabled_reason: null });

    const list = await call("/api/v1/admin/webhooks", { token: t.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: created.id })]);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(JSON.stringify(list.body)).not.toContain("whsec_");

    const one = await call(`/api/v1/admin/webhooks/${created.id}`, { token: t.adminKey });
    expect(one.status).toBe(200);
    expect(one.headers.get("etag")).toBe('"1"');
    expect(one.body.delivery).toEqual({ breaker: "closed", failing_since: null, failures: 0, pending: 0 });
    expect(JSON.stringify(one.body)).not.toContain("whsec_");

    const patched = await call(`/api/v1/admin/webhooks/${created.id}`, {
      method: "PATCH",
      token: t.adminKey,
      headers: { "if-match": '"1"' },
      body: { events: ["*"], enabled: false },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ events: ["*"], enabled: false, version: 2 });

    const stale = await call(`/api/v1/admin/webhooks/${created.id}`, {
      method: "PATCH",
      token: t.adminKey,
      headers: { "if-match": '"1"' },
      body: { enabled: true },
    });
    expect(stale.status).toBe(412);

    const rotated = await call(`/api/v1/admin/webhooks/${created.id}/rotate-secret`, {
      method: "POST",
      token: t.adminKey,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);

    const gone = await call(`/api/v1/admin/webhooks/${created.id}`, { method: "DELETE", token: t.adminKey });
    expect(gone.status).toBe(204);
    expect((await call(`/api/v1/admin/webhooks/${created.id}`, { token: t.adminKey })).status).toBe(404);
  });

  it("refuses a test or a redelivery to a disabled endpoint (it would wait unsent), and takes both once enabled", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey, { url: "http://127.0.0.1:9/hook" });
    const patch = (enabled: boolean) =>
      call(`/api/v1/admin/webhooks/${created.id}`, { method: "PATCH", token: t.adminKey, body: { enabled } });
    const test = () => call(`/api/v1/admin/webhooks/${created.id}/test`, { method: "POST", token: t.adminKey });
    expect((await test()).status).toBe(202);
    const log = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
    const [delivery] = log.body.items as { id: string }[];
    const redeliver = () =>
      call(`/api/v1/admin/webhooks/${created.id}/deliveries/${delivery?.id}/redeliver`, {
        method: "POST",
        token: t.adminKey,
      });
    expect((await patch(false)).status).toBe(200);
    for (const refused of [await test(), await redeliver()]) {
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: "endpoint_disabled" });
    }
    const after = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
    expect(after.body.items).toHaveLength(1);
    expect((await patch(true)).status).toBe(200);
    expect((await test()).status).toBe(202);
    expect((await redeliver()).status).toBe(202);
  });

  it("lists the delivery log latest queued first: a redelivered delivery moves to the top", async () => {
    // docs/webhooks.md said "newest first", yet the log is in queue position order: an
    // operator redelivering last week's message found it at the top, not where its date put it.
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey, { url: "http://127.0.0.1:9/hook" });
    const first = await call(`/api/v1/admin/webhooks/${created.id}/test`, { method: "POST", token: t.adminKey });
    const second = await call(`/api/v1/admin/webhooks/${created.id}/test`, { method: "POST", token: t.adminKey });
    const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${created.id}`);
    // Both given up, as three days of failed attempts would leave them, while no attempt of the
    // head is in flight (one would write its row back to pending, and it would not move).
    await giveUpBetweenAttempts(endpoint, String(first.body.message_id), (sql) => {
      sql.exec("update deliveries set status = 'failed'");
    });
    const order = async () => {
      const page = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
      return (page.body.items as { message_id: string; id: string }[]).map((d) => d.message_id);
    };
    expect(await order()).toEqual([second.body.message_id, first.body.message_id]);
    const log = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
    const older = (log.body.items as { id: string; message_id: string }[]).find(
      (d) => d.message_id === first.body.message_id,
    );
    const again = await call(`/api/v1/admin/webhooks/${created.id}/deliveries/${older?.id}/redeliver`, {
      method: "POST",
      token: t.adminKey,
    });
    expect(again.status).toBe(202);
    expect(await order()).toEqual([first.body.message_id, second.body.message_id]);
  });

  it("queues a test event and shows it in the delivery log", async () => {
    const t = await newTenant();
    // Nothing listens on port 9 of loopback (allowed as a target in the test environment): the attempt fails.
    const created = await createEndpoint(t.adminKey, { url: "http://127.0.0.1:9/hook" });
    const sent = await call(`/api/v1/admin/webhooks/${created.id}/test`, { method: "POST", token: t.adminKey });
    expect(sent.status).toBe(202);
    const log = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
    expect(log.body.items).toEqual([
      expect.objectContaining({ message_id: sent.body.message_id, event_type: "webhooks.test", status: "pending" }),
    ]);
    const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${created.id}`);
    // The retry's wait is drawn from [0, 30 s] (full jitter): a wait of a few milliseconds puts
    // a second attempt in the log before this first looks, so it waits for at least one.
    const items = await until(endpoint, async () => {
      const page = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
      const list = page.body.items as (Json & { id: string; attempts: number })[];
      return (list[0]?.attempts ?? 0) >= 1 ? list : undefined;
    });
    const tried = items[0]?.attempts ?? 0;
    expect(items[0]).toMatchObject({ status: "pending", response_status: null });
    expect(items[0]?.next_attempt_at).toEqual(expect.any(String));
    const detail = await call(`/api/v1/admin/webhooks/${created.id}/deliveries/${items[0]?.id}`, { token: t.adminKey });
    // Every attempt is logged, each as unreachable as the first; more may have run since the list was read.
    const attemptLog = detail.body.attempt_log as Json[];
    expect(attemptLog).toHaveLength(detail.body.attempts as number);
    expect(attemptLog.length).toBeGreaterThanOrEqual(tried);
    for (const entry of attemptLog) expect(entry).toMatchObject({ outcome: "unreachable", response_status: null });
  });
});

describe("webhook endpoints (errors)", () => {
  it.each([
    ["http://hooks.example.com/x", /https/],
    ["https://10.0.0.7/x", /private|address/],
    ["https://169.254.169.254/latest/meta-data", /metadata|link/],
    ["https://user:pass@hooks.example.com/x", /credential|user/],
    ["ftp://hooks.example.com/x", /https/],
    ["https://[fd00::1]/x", /private|address/],
  ])("refuses %s as a target", async (url, reason) => {
    const t = await newTenant();
    const res = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: { url, events: ["*"] } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("webhook_url_refused");
    expect(String(res.body.detail)).toMatch(reason);
  });

  it("refuses filters that are not event types", async () => {
    const t = await newTenant();
    for (const events of [[], ["blog.*.created"], ["Blog.post"], ["*.created"]]) {
      const res = await call("/api/v1/admin/webhooks", {
        token: t.adminKey,
        body: { url: "https://hooks.example.com", events },
      });
      expect(res.status, JSON.stringify(events)).toBe(400);
      expect(res.body.code).toBe("validation_failed");
    }
  });

  it("refuses a filter no registered module's events match (a typo would receive nothing, silently), on create and PATCH", async () => {
    const t = await newTenant();
    const typo = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com", events: ["blog.post.published", "blog.post.publish", "blgo.*"] },
    });
    expect(typo.status, JSON.stringify(typo.body)).toBe(400);
    expect(typo.body).toMatchObject({
      code: "validation_failed",
      detail: "no registered module publishes events matching blog.post.publish, blgo.*",
      errors: [
        { path: "body.events.1", message: "no registered module publishes events matching blog.post.publish" },
        { path: "body.events.2", message: "no registered module publishes events matching blgo.*" },
      ],
    });
    // The kernel's own events count as published, and the test message's type.
    const created = await createEndpoint(t.adminKey, {
      events: ["blog.post.published", "authz.denied", "identity.*", "webhooks.test"],
    });
    const patched = await call(`/api/v1/admin/webhooks/${created.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { events: ["blog.post.pubilshed"] },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([
      { path: "body.events.0", message: "no registered module publishes events matching blog.post.pubilshed" },
    ]);
  });

  // An actor's pause (its supervision's actor.escalated) reached the tenant's audit log, but no
  // filter could name it: the kernel declares it, so an operator can follow paused actors.
  it("accepts a filter naming actor.escalated, the event an actor's supervision sends when it pauses", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey, { events: ["actor.escalated"] });
    expect(created.events).toEqual(["actor.escalated"]);
    const prefixed = await call(`/api/v1/admin/webhooks/${created.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { events: ["actor.*"] },
    });
    expect(prefixed.status, JSON.stringify(prefixed.body)).toBe(200);
  });

  it("answers 404 for an unknown endpoint or delivery", async () => {
    const t = await newTenant();
    expect((await call("/api/v1/admin/webhooks/nope", { token: t.adminKey })).status).toBe(404);
    const created = await createEndpoint(t.adminKey);
    const res = await call(`/api/v1/admin/webhooks/${created.id}/deliveries/nope/redeliver`, {
      method: "POST",
      token: t.adminKey,
    });
    expect(res.status).toBe(404);
  });
});

describe("webhook endpoints (security)", () => {
  it("keeps each tenant's endpoints and deliveries to itself", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const created = await createEndpoint(a.adminKey);
    expect((await call("/api/v1/admin/webhooks", { token: b.adminKey })).body.items).toEqual([]);
    for (const [method, path] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/rotate-secret"],
      ["POST", "/test"],
      ["GET", "/deliveries"],
    ] as const) {
      const res = await call(`/api/v1/admin/webhooks/${created.id}${path}`, {
        method,
        token: b.adminKey,
        ...(method === "PATCH" ? { body: { enabled: false } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call(`/api/v1/admin/webhooks/${created.id}`, { token: a.adminKey })).body.enabled).toBe(true);
  });

  it("needs admin.webhooks.read to list and admin.webhooks.write to change", async () => {
    const t = await newTenant();
    const member = await newUser(t.slug);
    expect((await call("/api/v1/admin/webhooks", { token: member.access_token })).status).toBe(403);
    const res = await call("/api/v1/admin/webhooks", {
      token: member.access_token,
      body: { url: "https://hooks.example.com", events: ["*"] },
    });
    expect(res.status).toBe(403);
  });

  it("stops delivering, and says why, once the tenant's key material is destroyed", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey, { url: "http://127.0.0.1:9/hook" });
    await destroyTenantKeys(env, t.id, {
      now: new Date().toISOString(),
      actor: { kind: "platform", id: null },
      requestId: null,
    });
    await call(`/api/v1/admin/webhooks/${created.id}/test`, { method: "POST", token: t.adminKey });
    const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${created.id}`);
    const one = await until(endpoint, async () => {
      const res = await call(`/api/v1/admin/webhooks/${created.id}`, { token: t.adminKey });
      return res.body.enabled === false ? res.body : undefined;
    });
    expect(one).toMatchObject({ enabled: false, disabled_reason: "secret_unreadable" });
    // Nothing was sent: the message is still queued, with no attempt.
    const log = await call(`/api/v1/admin/webhooks/${created.id}/deliveries`, { token: t.adminKey });
    expect(log.body.items).toEqual([expect.objectContaining({ status: "pending", attempts: 0 })]);
  });

  it("hears an endpoint's stop report after the registry was evicted, and records it once", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t.adminKey);
    // The report can come hours after the registry last ran (an endpoint failing for days).
    await abortAllDurableObjects();
    const report = { id: created.id, reason: "failing" as const, failures: 12, failing_since: null, config_version: 1 };
    expect(await registry(env, t.id).disabled(report)).toEqual({ ok: true });
    const one = await call(`/api/v1/admin/webhooks/${created.id}`, { token: t.adminKey });
    expect(one.body).toMatchObject({ enabled: false, disabled_reason: "failing", version: 2 });
    // A repeat of the report (the endpoint's timer fires at least once) changes nothing.
    expect(await registry(env, t.id).disabled(report)).toEqual({ ok: false });
    expect((await call(`/api/v1/admin/webhooks/${created.id}`, { token: t.adminKey })).body.version).toBe(2);
  });
});
