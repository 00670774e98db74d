// Webhooks end to end: plinth served by Miniflare delivers to a real HTTP
// receiver on 127.0.0.1, whose answers each test scripts (200, 500, 410, or no
// answer at all). Every signature it receives is checked with the independent
// `standardwebhooks` verifier, as a tenant's receiver would. WEBHOOK_POLICY
// shrinks the three-day schedule to seconds.
import { randomBytes } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type Received, type Receiver, startReceiver } from "../../bench/lib/webhooks.mjs";
import { type Json, servedApi, until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");

// Three quick failures open the breaker for 800 ms; six failures spread over
// at least 2 s disable the endpoint; an attempt gives up after 1 s.
const POLICY = {
  retry_base_ms: 100,
  retry_max_ms: 400,
  give_up_after_ms: 60_000,
  disable_after_ms: 2_000,
  disable_after_failures: 6,
  attempt_timeout_ms: 1_000,
  breaker_window_ms: 10_000,
  breaker_minimum_calls: 3,
  breaker_failure_rate: 0.5,
  breaker_cool_down_ms: 800,
  tenant_concurrency: 10,
};

let receiver: Receiver;
let worker: ServedWorker | undefined;
/** Every secret each receiver path was given, so every signature can be checked. */
const secretsOf = new Map<string, string[]>();

beforeAll(async () => {
  // Records every request in arrival order; each test scripts its paths' answers (200, 500, 410, none).
  receiver = await startReceiver();
  worker = await serveWorker(ROOT, {
    vars: {
      WEBHOOK_POLICY: JSON.stringify(POLICY),
      ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
    },
  });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await receiver?.stop();
});

const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};
const api = servedApi(() => worker);

let tenants = 0;
async function newTenant(): Promise<{ id: string; slug: string; key: string }> {
  const slug = `wh-${Date.now().toString(36)}-${++tenants}`;
  const res = await api("POST", "/api/v1/platform/tenants", {
    key: served().rootKey,
    body: { slug, name: `Webhooks ${tenants}` },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: String(res.body.id), slug, key: String(res.body.admin_key) };
}

/**
 * Registers a user in the tenant and verifies their email with the mailed token (operational
 * mail, the disabled-endpoint notice among it, goes only to verified addresses); optionally
 * grants a role with the admin key.
 */
async function newUser(t: { slug: string; key: string }, name: string, role?: string): Promise<string> {
  const email = `${name}-${t.slug}@example.com`;
  const res = await api("POST", "/api/v1/auth/register", {
    headers: { "x-tenant": t.slug },
    body: { email, password: "correct horse battery staple", name },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const token = await until("the verification mail", async () => {
    const box = await api("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`, {
      headers: { "x-tenant": t.slug },
    });
    const mail = (box.body.items as { body: string }[]).find((m) => /\bplv_/.test(m.body));
    return mail ? /\bplv_[A-Za-z0-9_-]+/.exec(mail.body)?.[0] : undefined;
  });
  const verified = await api("POST", "/api/v1/auth/verify-email", {
    headers: { "x-tenant": t.slug },
    body: { token },
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(204);
  if (role) {
    const granted = await api("PUT", `/api/v1/admin/users/${res.body.id}/roles/${role}`, { key: t.key });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
  }
  return email;
}

interface Endpoint {
  id: string;
  path: string;
}

async function newEndpoint(key: string, label: string, events: string[], mode: Mode = "ok"): Promise<Endpoint> {
  const target = receiver.path(label, mode);
  const res = await api("POST", "/api/v1/admin/webhooks", { key, body: { url: target.url, events } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(String(res.body.secret)).toMatch(/^whsec_/);
  secretsOf.set(target.path, [String(res.body.secret)]);
  return { id: String(res.body.id), path: target.path };
}

async function newPost(key: string, title: string): Promise<string> {
  const res = await api("POST", "/api/v1/blog/posts", { key, body: { title, content: `about ${title}` } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

const endpointOf = async (key: string, id: string) => (await api("GET", `/api/v1/admin/webhooks/${id}`, { key })).body;
const bodyOf = (r: Received) => JSON.parse(r.body) as Json & { id: string; type: string; tenant_id: string };

/** Whether `secret` verifies the request (all its signatures, or only `signature`) with the standardwebhooks library. */
function verifies(r: Received, secret: string, signature = r.headers["webhook-signature"] ?? ""): boolean {
  try {
    new Webhook(secret).verify(r.body, {
      "webhook-id": r.headers["webhook-id"] ?? "",
      "webhook-timestamp": r.headers["webhook-timestamp"] ?? "",
      "webhook-signature": signature,
    });
    return true;
  } catch {
    return false;
  }
}
const signatures = (r: Received) => (r.headers["webhook-signature"] ?? "").split(" ").filter(Boolean);

describe("webhooks end to end", () => {
  it("refuses private, metadata and look-alike loopback targets", async () => {
    const t = await newTenant();
    for (const url of [
      "http://10.0.0.1/hook",
      "https://10.0.0.1/hook",
      "https://169.254.169.254/latest/meta-data",
      "http://localhost.evil.test/hook",
      "http://127.0.0.1.nip.io/hook",
      "https://metadata.google.internal/",
      "https://[::ffff:169.254.169.254]/",
    ]) {
      const res = await api("POST", "/api/v1/admin/webhooks", { key: t.key, body: { url, events: ["*"] } });
      expect(res.status, url).toBe(400);
      expect(res.body.code, url).toBe("webhook_url_refused");
    }
    expect((await api("GET", "/api/v1/admin/webhooks", { key: t.key })).body.items).toEqual([]);
  });

  it("delivers real writes signed, with the event id as webhook-id, respecting each endpoint's filters", async () => {
    const t = await newTenant();
    const all = await newEndpoint(t.key, "all", ["blog.post.*"]);
    const published = await newEndpoint(t.key, "published", ["blog.post.published"]);
    const first = await newPost(t.key, "first");
    const second = await newPost(t.key, "second");
    expect((await api("POST", `/api/v1/blog/posts/${second}/publish`, { key: t.key })).status).toBe(200);

    const got = await until("three deliveries", () => {
      const list = receiver.delivered(all.path);
      return list.length >= 3 && receiver.delivered(published.path).length >= 1 ? list : undefined;
    });
    const bodies = got.map(bodyOf);
    expect(bodies.map((b) => b.type).sort()).toEqual(["blog.post.created", "blog.post.created", "blog.post.published"]);
    expect(bodies.filter((b) => b.type === "blog.post.published").map((b) => b.stream)).toEqual([
      expect.stringContaining(second),
    ]);
    expect(bodies.map((b) => String(b.stream)).some((s) => s.includes(first))).toBe(true);
    for (const [i, r] of got.entries()) {
      const body = bodies[i];
      expect(r.headers["webhook-id"]).toBe(body?.id);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(body).toMatchObject({ tenant_id: t.id, version: expect.any(Number), data: expect.any(Object) });
      // Standard Webhooks' recommended payload fields (type, timestamp, data): timestamp is occurred_at.
      expect(body?.timestamp).toBe(body?.occurred_at);
      expect(Number.isNaN(Date.parse(String(body?.timestamp)))).toBe(false);
      // What the platform keeps to itself stays out of the body.
      expect(body).not.toHaveProperty("ip_hash");
      expect(body).not.toHaveProperty("audit");
      expect(body).not.toHaveProperty("trace");
      expect(verifies(r, secretsOf.get(all.path)?.[0] ?? "")).toBe(true);
    }
    // The ids are those of the events the blog's own projection applied: the event ids, not the module's.
    const ids = got.map((r) => r.headers["webhook-id"]);
    const projected = (
      await served().sql(
        `select count(*) as n from processed_events where consumer = 'blog:blog.posts' and event_id in (${ids.map(() => "?").join(",")})`,
        ...ids,
      )
    ).results[0];
    expect(projected?.n).toBe(3);

    // The published-only endpoint got the one published event, never a created one.
    const only = receiver.on(published.path);
    expect(only.map((r) => bodyOf(r).type)).toEqual(["blog.post.published"]);
    expect(only[0]?.headers["webhook-id"]).toBe(bodies.find((b) => b.type === "blog.post.published")?.id);
  });

  it("keeps each endpoint's order while the receiver fails and recovers, opening and closing the breaker", async () => {
    const t = await newTenant();
    const ordered = await newEndpoint(t.key, "ordered", ["blog.post.*"], "fail");
    const post = await newPost(t.key, "ordered");
    for (let i = 1; i <= 5; i++) {
      const res = await api("PATCH", `/api/v1/blog/posts/${post}`, { key: t.key, body: { content: `edit ${i}` } });
      expect(res.status).toBe(200);
    }
    const states: string[] = [];
    await until("the breaker to open", async () => {
      const delivery = (await endpointOf(t.key, ordered.id)).delivery as Json;
      states.push(String(delivery.breaker));
      return delivery.breaker === "open" ? delivery : undefined;
    });
    const failedBefore = receiver.on(ordered.path).length;
    expect(failedBefore).toBeGreaterThanOrEqual(POLICY.breaker_minimum_calls);
    // While open, nothing is sent: the failures so far all retried the head of the queue.
    expect(new Set(receiver.on(ordered.path).map((r) => r.headers["webhook-id"])).size).toBe(1);

    receiver.set(ordered.path, "ok");
    const delivered = await until("six deliveries", () => {
      const list = receiver.delivered(ordered.path);
      return list.length >= 6 ? list : undefined;
    });
    const health = await until("the breaker to close", async () => {
      const delivery = (await endpointOf(t.key, ordered.id)).delivery as Json;
      states.push(String(delivery.breaker));
      return delivery.breaker === "closed" && delivery.pending === 0 ? delivery : undefined;
    });
    expect(health).toMatchObject({ failures: 0, failing_since: null });
    expect(states).toContain("open");

    // The order the endpoint queued them in (its log, oldest first) is the order they were delivered in.
    const log = await api("GET", `/api/v1/admin/webhooks/${ordered.id}/deliveries?limit=100`, { key: t.key });
    const queued = (log.body.items as Json[]).map((d) => String(d.message_id)).reverse();
    const ids = delivered.map((r) => r.headers["webhook-id"]);
    expect(ids).toEqual(queued);
    // One post's events: versions 1..6 in order, each delivered once.
    expect(delivered.map((r) => bodyOf(r).version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(ids).size).toBe(ids.length);
    const first = (log.body.items as Json[]).at(-1);
    expect(first).toMatchObject({ status: "delivered", attempts: failedBefore + 1 });
  });

  it("disables an endpoint after a failure streak, mails the tenant's admin, and resumes when enabled", async () => {
    const t = await newTenant();
    const admin = await newUser(t, "admin", "admin");
    const member = await newUser(t, "member");
    const failing = await newEndpoint(t.key, "streak", ["blog.post.*"], "fail");
    await newPost(t.key, "one");
    await newPost(t.key, "two");
    const disabled = await until(
      "the endpoint to be disabled",
      async () => {
        const e = await endpointOf(t.key, failing.id);
        return e.enabled === false ? e : undefined;
      },
      20_000,
    );
    expect(disabled).toMatchObject({ disabled_reason: "failing" });
    expect(receiver.on(failing.path).length).toBeGreaterThanOrEqual(POLICY.disable_after_failures);
    expect(receiver.delivered(failing.path)).toEqual([]);

    const mail = await until("the mail to the admin", async () => {
      const box = await api("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(admin)}`, {
        headers: { "x-tenant": t.slug },
      });
      return (box.body.items as { subject: string; body: string }[]).find((m) =>
        m.subject.includes(`Webhook endpoint ${failing.id} was disabled`),
      );
    });
    expect(mail.body).toContain("127.0.0.1");
    expect(mail.body).toContain(`PATCH /api/v1/admin/webhooks/${failing.id}`);
    const toMember = await api("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(member)}`, {
      headers: { "x-tenant": t.slug },
    });
    expect(
      (toMember.body.items as { subject: string }[]).filter((m) => m.subject.includes("Webhook endpoint")),
    ).toEqual([]);

    const sentWhileFailing = receiver.on(failing.path).length;
    receiver.set(failing.path, "ok");
    const enabled = await api("PATCH", `/api/v1/admin/webhooks/${failing.id}`, {
      key: t.key,
      body: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    const delivered = await until("both queued messages", () => {
      const list = receiver.delivered(failing.path);
      return list.length >= 2 ? list : undefined;
    });
    expect(delivered.map((r) => bodyOf(r).type)).toEqual(["blog.post.created", "blog.post.created"]);
    // Nothing was sent while it was disabled.
    expect(receiver.on(failing.path).length).toBe(sentWhileFailing + 2);
    const health = await until("an empty queue", async () => {
      const delivery = (await endpointOf(t.key, failing.id)).delivery as Json;
      return delivery.pending === 0 ? delivery : undefined;
    });
    expect(health).toMatchObject({ breaker: "closed", failures: 0 });
  });

  it("disables at once on 410 Gone, and logs an attempt that got no answer in time", async () => {
    const t = await newTenant();
    const gone = await newEndpoint(t.key, "gone", ["blog.post.*"], "gone");
    const hang = await newEndpoint(t.key, "hang", ["blog.post.*"], "hang");
    await api("POST", `/api/v1/admin/webhooks/${gone.id}/test`, { key: t.key });
    const sent = await api("POST", `/api/v1/admin/webhooks/${hang.id}/test`, { key: t.key });
    expect(sent.status).toBe(202);

    const off = await until("the 410 to disable the endpoint", async () => {
      const e = await endpointOf(t.key, gone.id);
      return e.enabled === false ? e : undefined;
    });
    expect(off).toMatchObject({ disabled_reason: "gone" });
    expect(receiver.on(gone.path)).toHaveLength(1);
    const goneLog = await api("GET", `/api/v1/admin/webhooks/${gone.id}/deliveries`, { key: t.key });
    expect(goneLog.body.items).toEqual([expect.objectContaining({ status: "failed", response_status: 410 })]);
    // A message given up is the operator's to know of too (no other line said so): named by its
    // endpoint and delivery, its receiver by host only (the URL's path may carry a token).
    const givenUp = served().logs.kinds.get("[warn] webhook delivery given up")?.first ?? "";
    const [item] = goneLog.body.items as Json[];
    expect(givenUp, "a log line 'webhook delivery given up'").toContain("{");
    expect(JSON.parse(givenUp.slice(givenUp.indexOf("{")))).toMatchObject({
      tenant_id: t.id,
      endpoint_id: gone.id,
      delivery_id: item?.id,
      event_type: "webhooks.test",
      host: new URL(receiver.path("probe").url).host,
      outcome: "rejected",
      response_status: 410,
    });
    expect(givenUp).not.toContain("/hook/");
    // And counted, so an alert can watch messages lost to receivers rather than read logs.
    const metrics = await fetch(`${served().origin}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^plinth_webhook_messages_given_up_total\{outcome="rejected"\} [1-9]/m);

    const attempt = await until("a timed-out attempt", async () => {
      const log = await api("GET", `/api/v1/admin/webhooks/${hang.id}/deliveries`, { key: t.key });
      const item = (log.body.items as Json[])[0];
      if (!item || item.attempts === 0) return undefined;
      return (await api("GET", `/api/v1/admin/webhooks/${hang.id}/deliveries/${item.id}`, { key: t.key })).body;
    });
    expect(attempt).toMatchObject({ status: "pending", message_id: sent.body.message_id });
    expect((attempt.attempt_log as Json[])[0]).toMatchObject({ outcome: "unreachable", response_status: null });
    expect(String((attempt.attempt_log as Json[])[0]?.response)).toMatch(/no complete response within 1000 ms/);
    // Stop the retries of the hanging endpoint: the rest of the file need not wait on them.
    await api("DELETE", `/api/v1/admin/webhooks/${hang.id}`, { key: t.key });
  });

  it("signs with both the old and the new secret after a rotation", async () => {
    const t = await newTenant();
    const rotating = await newEndpoint(t.key, "rotating", ["webhooks.test"]);
    const [oldSecret = ""] = secretsOf.get(rotating.path) ?? [];
    const before = await api("POST", `/api/v1/admin/webhooks/${rotating.id}/test`, { key: t.key });
    const firstDelivery = await until("the first test message", () =>
      receiver.delivered(rotating.path).find((r) => r.headers["webhook-id"] === before.body.message_id),
    );
    expect(signatures(firstDelivery)).toHaveLength(1);
    expect(verifies(firstDelivery, oldSecret)).toBe(true);

    const rotated = await api("POST", `/api/v1/admin/webhooks/${rotating.id}/rotate-secret`, { key: t.key });
    expect(rotated.status).toBe(200);
    const newSecret = String(rotated.body.secret);
    expect(newSecret).not.toBe(oldSecret);
    secretsOf.set(rotating.path, [oldSecret, newSecret]);

    const after = await api("POST", `/api/v1/admin/webhooks/${rotating.id}/test`, { key: t.key });
    const r = await until("the test message after rotation", () =>
      receiver.delivered(rotating.path).find((x) => x.headers["webhook-id"] === after.body.message_id),
    );
    const [first = "", second = ""] = signatures(r);
    expect(signatures(r)).toHaveLength(2);
    expect(verifies(r, oldSecret)).toBe(true);
    expect(verifies(r, newSecret)).toBe(true);
    // Each signature is one secret's: the new one first, the old one beside it.
    expect([verifies(r, newSecret, first), verifies(r, oldSecret, first)]).toEqual([true, false]);
    expect([verifies(r, oldSecret, second), verifies(r, newSecret, second)]).toEqual([true, false]);
    expect(verifies(r, `whsec_${randomBytes(32).toString("base64")}`)).toBe(false);
    expect(verifies({ ...r, body: `${r.body} ` }, newSecret)).toBe(false);
  });

  it("keeps tenants apart: no sight of another's endpoints, and none of its events", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const ofA = await newEndpoint(a.key, "tenant-a", ["*"]);
    const ofB = await newEndpoint(b.key, "tenant-b", ["*"]);
    const aPost = await newPost(a.key, "a's secret plans");
    const fromA = await until("tenant A's post at its endpoint", () =>
      receiver.delivered(ofA.path).find((r) => String(bodyOf(r).stream).includes(aPost)),
    );
    // B's event, written after A's: once it has arrived, a misrouted A event would have been queued before it.
    const bPost = await newPost(b.key, "b's post");
    await until("tenant B's post at its endpoint", () =>
      receiver.delivered(ofB.path).find((r) => String(bodyOf(r).stream).includes(bPost)),
    );
    const atB = receiver.on(ofB.path).map(bodyOf);
    expect(atB.every((e) => e.tenant_id === b.id)).toBe(true);
    expect(atB.map((e) => e.id)).not.toContain(fromA.headers["webhook-id"]);
    expect(receiver.on(ofA.path).every((r) => bodyOf(r).tenant_id === a.id)).toBe(true);

    const list = await api("GET", "/api/v1/admin/webhooks", { key: b.key });
    expect((list.body.items as Json[]).map((e) => e.id)).toEqual([ofB.id]);
    const log = await api("GET", `/api/v1/admin/webhooks/${ofA.id}/deliveries`, { key: a.key });
    const deliveryId = String((log.body.items as Json[])[0]?.id);
    for (const [method, p] of [
      ["GET", `/api/v1/admin/webhooks/${ofA.id}`],
      ["PATCH", `/api/v1/admin/webhooks/${ofA.id}`],
      ["DELETE", `/api/v1/admin/webhooks/${ofA.id}`],
      ["POST", `/api/v1/admin/webhooks/${ofA.id}/rotate-secret`],
      ["POST", `/api/v1/admin/webhooks/${ofA.id}/test`],
      ["GET", `/api/v1/admin/webhooks/${ofA.id}/deliveries`],
      ["GET", `/api/v1/admin/webhooks/${ofA.id}/deliveries/${deliveryId}`],
      ["POST", `/api/v1/admin/webhooks/${ofA.id}/deliveries/${deliveryId}/redeliver`],
    ] as const) {
      const res = await api(method, p, { key: b.key, ...(method === "PATCH" ? { body: { enabled: false } } : {}) });
      expect(res.status, `${method} ${p}`).toBe(404);
    }
    expect(await endpointOf(a.key, ofA.id)).toMatchObject({ enabled: true, version: 1 });
  });

  it("sends a test event, and redelivers a delivered message with the same webhook-id", async () => {
    const t = await newTenant();
    const target = await newEndpoint(t.key, "redeliver", ["blog.post.created"]);
    const sent = await api("POST", `/api/v1/admin/webhooks/${target.id}/test`, { key: t.key });
    expect(sent.status).toBe(202);
    const first = await until("the test message", () => receiver.delivered(target.path)[0]);
    expect(first.headers["webhook-id"]).toBe(sent.body.message_id);
    expect(bodyOf(first)).toMatchObject({ id: sent.body.message_id, type: "webhooks.test", tenant_id: t.id });

    const log = await until("the delivery to be logged as delivered", async () => {
      const page = await api("GET", `/api/v1/admin/webhooks/${target.id}/deliveries?status=delivered`, {
        key: t.key,
      });
      return (page.body.items as Json[])[0];
    });
    const again = await api("POST", `/api/v1/admin/webhooks/${target.id}/deliveries/${log.id}/redeliver`, {
      key: t.key,
    });
    expect(again.status).toBe(202);
    const second = await until("the redelivery", () => receiver.delivered(target.path)[1]);
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(second.body).toBe(first.body);
    expect(verifies(second, secretsOf.get(target.path)?.[0] ?? "")).toBe(true);
  });

  it("sends again at once, on a new connection, a message whose kept-alive connection the receiver closed unanswered", async () => {
    // Node's http server closes a kept-alive connection after 5 s idle; one closed just as
    // workerd writes the next delivery on it fails that request before any answer. This
    // receiver does it every time: the second request of each connection is dropped unread.
    let dropped = 0;
    const answered: string[] = [];
    const closer = http.createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { requests?: number };
      socket.requests = (socket.requests ?? 0) + 1;
      if (socket.requests === 2) {
        dropped++;
        socket.destroy();
        return;
      }
      req.resume().on("end", () => {
        answered.push(String(req.headers["webhook-id"]));
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => closer.listen(0, "127.0.0.1", resolve));
    try {
      const address = closer.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
      const t = await newTenant();
      const created = await api("POST", "/api/v1/admin/webhooks", {
        key: t.key,
        body: { url, events: ["blog.post.*"] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      for (const title of ["one", "two", "three"]) await newPost(t.key, title);
      await until("three messages answered", () => (answered.length >= 3 ? true : undefined));
      expect(dropped, "a request the receiver dropped on a kept-alive connection").toBeGreaterThan(0);

      const log = await api("GET", `/api/v1/admin/webhooks/${created.body.id}/deliveries`, { key: t.key });
      const items = log.body.items as Json[];
      expect(items).toHaveLength(3);
      // Each delivered on its first attempt: the second send was part of it, and its log says so.
      for (const item of items) expect(item).toMatchObject({ status: "delivered", attempts: 1 });
      const notes: unknown[] = [];
      for (const item of items) {
        const detail = await api("GET", `/api/v1/admin/webhooks/${created.body.id}/deliveries/${item.id}`, {
          key: t.key,
        });
        notes.push(...(detail.body.attempt_log as Json[]).map((a) => a.note).filter((n) => n !== undefined));
      }
      expect(notes).toHaveLength(dropped);
      for (const note of notes)
        expect(note).toBe(
          "sent twice: the first connection was lost before any answer (127.0.0.1: request failed (network error))",
        );
      expect(new Set(answered).size).toBe(3);
    } finally {
      closer.closeAllConnections();
      await new Promise((resolve) => closer.close(resolve));
    }
  });

  it("every signature the receiver got verifies with a secret of its endpoint", () => {
    expect(receiver.requests.length).toBeGreaterThan(20);
    for (const r of receiver.requests) {
      const secrets = secretsOf.get(r.path) ?? [];
      expect(signatures(r).length, r.path).toBeGreaterThan(0);
      for (const signature of signatures(r)) {
        expect(
          secrets.some((s) => verifies(r, s, signature)),
          `${r.path} ${r.headers["webhook-id"]}`,
        ).toBe(true);
      }
    }
  });
});
