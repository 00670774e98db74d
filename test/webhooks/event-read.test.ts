import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { auditOf, call, callerOf, newKey, newTenant, newUser, rootKey } from "../identity/helpers";

// A webhook endpoint receives every event its filters match: before modules declared who may
// follow their events (`event_read`), admin.webhooks.write alone subscribed to `*` and received
// the tenant's key names and scopes, role changes and failed sign-ins, which the API shows only
// to holders of admin.keys.read, admin.roles.read, admin.audit.read.

const WRITE = "admin.webhooks.write";
/** What `identity.*` needs today: each rule of the identity module, and the audit log's for the rest. */
const IDENTITY = [
  "admin.audit.read",
  "admin.keys.read",
  "admin.roles.read",
  "admin.settings.read",
  "admin.sso.read",
  "identity.invitation.read",
  "identity.user.export",
  "identity.user.read",
  "identity.user.update",
];
/** What `*` needs today: every module's rules. */
const EVERYTHING = [...IDENTITY, "admin.webhooks.read", "blog.post.read", "files.file.read"].sort();

const endpoint = (events: string[], url = "https://hooks.example.com/in") => ({ url, events });

describe("webhook filters and what the caller may read", () => {
  it("refuses admin.webhooks.write alone every filter whose events need a read permission, naming each", async () => {
    const t = await newTenant();
    const { key } = await newKey(t.adminKey, [WRITE]);
    const everything = await call("/api/v1/admin/webhooks", { token: key, body: endpoint(["*"]) });
    expect(everything.status, JSON.stringify(everything.body)).toBe(403);
    expect(everything.body).toMatchObject({
      code: "forbidden",
      detail: `you do not hold ${EVERYTHING.join(", ")}, which read the events that * match`,
      errors: [
        {
          path: "body.events.0",
          message: `* matches events read with ${EVERYTHING.join(", ")}, which you do not hold`,
        },
      ],
    });

    const some = await call("/api/v1/admin/webhooks", {
      token: key,
      body: endpoint(["identity.*", "blog.*", "identity.key.created"]),
    });
    expect(some.status).toBe(403);
    expect(some.body.errors).toEqual([
      {
        path: "body.events.0",
        message: `identity.* matches events read with ${IDENTITY.join(", ")}, which you do not hold`,
      },
      { path: "body.events.1", message: "blog.* matches events read with blog.post.read, which you do not hold" },
      {
        path: "body.events.2",
        message: "identity.key.created matches events read with admin.keys.read, which you do not hold",
      },
    ]);
    // The kernel's events are the audit log's to show: authz.denied needs admin.audit.read.
    const denied = await call("/api/v1/admin/webhooks", { token: key, body: endpoint(["authz.denied"]) });
    expect(denied.body.errors).toEqual([
      {
        path: "body.events.0",
        message: "authz.denied matches events read with admin.audit.read, which you do not hold",
      },
    ]);
    expect((await call("/api/v1/admin/webhooks", { token: t.adminKey })).body.items).toEqual([]);

    // Recorded as every refusal of authority is.
    const [entry] = await auditOf(t.adminKey, "authz.denied");
    expect(entry?.actor).toEqual({ kind: "api_key", id: expect.any(String) });
  });

  it("takes the same filters from a key holding the read permissions they need", async () => {
    const t = await newTenant();
    const blog = await newKey(t.adminKey, [WRITE, "blog.post.read"]);
    const posts = await call("/api/v1/admin/webhooks", { token: blog.key, body: endpoint(["blog.*"]) });
    expect(posts.status, JSON.stringify(posts.body)).toBe(201);
    const identity = await newKey(t.adminKey, [WRITE, ...IDENTITY]);
    const ids = await call("/api/v1/admin/webhooks", { token: identity.key, body: endpoint(["identity.*"]) });
    expect(ids.status, JSON.stringify(ids.body)).toBe(201);
    const all = await newKey(t.adminKey, [WRITE, ...EVERYTHING]);
    const everything = await call("/api/v1/admin/webhooks", { token: all.key, body: endpoint(["*"]) });
    expect(everything.status, JSON.stringify(everything.body)).toBe(201);
    // The rules of a role: `*.read` covers every read permission (not the export's nor sessions').
    const reader = await newKey(t.adminKey, [WRITE, "*.read", "identity.user.export", "identity.user.update"]);
    expect((await call("/api/v1/admin/webhooks", { token: reader.key, body: endpoint(["*"]) })).status).toBe(201);
  });

  it("refuses a role with admin.webhooks.write only, and takes its filters once the role reads them", async () => {
    const t = await newTenant();
    const role = (permissions: string[]) =>
      call("/api/v1/admin/roles/hooks", { method: "PUT", token: t.adminKey, body: { permissions } });
    const made = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "hooks", permissions: [WRITE] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const user = await newUser(t.slug);
    const bound = await call(`/api/v1/admin/users/${user.id}/roles/hooks`, { method: "PUT", token: t.adminKey });
    expect(bound.status).toBe(204);
    // Registration made them a member, who reads posts: hooks is to be all they hold.
    const member = await call(`/api/v1/admin/users/${user.id}/roles/member`, { method: "DELETE", token: t.adminKey });
    expect(member.status).toBe(204);
    const create = (events: string[]) =>
      call("/api/v1/admin/webhooks", { token: user.access_token, body: endpoint(events) });
    for (const events of [["*"], ["identity.*"], ["blog.*"]]) {
      expect((await create(events)).status, events[0]).toBe(403);
    }
    expect((await role([WRITE, "blog.post.read"])).status).toBe(200);
    expect((await create(["blog.*"])).status).toBe(201);
    expect((await create(["identity.*"])).status).toBe(403);
    expect((await role([WRITE, ...EVERYTHING])).status).toBe(200);
    expect((await create(["identity.*"])).status).toBe(201);
    expect((await create(["*"])).status).toBe(201);
  });

  it("lets the default admin role follow everything, as the owner's key does", async () => {
    const t = await newTenant();
    const user = await newUser(t.slug);
    const bound = await call(`/api/v1/admin/users/${user.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(bound.status).toBe(204);
    const res = await call("/api/v1/admin/webhooks", { token: user.access_token, body: endpoint(["*"]) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await call("/api/v1/admin/webhooks", { token: t.adminKey, body: endpoint(["*"]) })).status).toBe(201);
  });

  it("keeps a read-modify-write of an endpoint's filters working, but not a new filter or a new URL", async () => {
    const t = await newTenant();
    const made = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: endpoint(["*"]) });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const { key } = await newKey(t.adminKey, [WRITE, "admin.webhooks.read"]);
    const patch = (body: Record<string, unknown>) =>
      call(`/api/v1/admin/webhooks/${id}`, { method: "PATCH", token: key, body });

    expect((await patch({ description: "all of it", enabled: false })).status).toBe(200);
    // The filters as read, sent back with a change elsewhere, and the same URL.
    const read = await call(`/api/v1/admin/webhooks/${id}`, { token: key });
    const same = await patch({ events: read.body.events, url: read.body.url, enabled: true });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    // A filter added anew is checked…
    const added = await patch({ events: ["*", "identity.*"] });
    expect(added.status).toBe(403);
    expect(added.body.errors).toEqual([expect.objectContaining({ path: "body.events.1" })]);
    // …and a new URL makes every filter new: the endpoint's events would go to another receiver.
    const moved = await patch({ url: "https://elsewhere.example.com/in" });
    expect(moved.status).toBe(403);
    expect(moved.body.errors).toEqual([expect.objectContaining({ path: "body.events.0" })]);
    const after = await call(`/api/v1/admin/webhooks/${id}`, { token: key });
    expect(after.body).toMatchObject({ url: "https://hooks.example.com/in", events: ["*"] });
    // Narrowing to what the key reads is its to do (in place: a move is checked against what the
    // endpoint follows and keeps, below).
    expect((await patch({ events: ["webhooks.*"] })).status).toBe(200);
  });

  it("counts a new URL as the receiver of what the endpoint follows now and of every delivery it keeps", async () => {
    const t = await newTenant();
    const made = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: endpoint(["*"]) });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const patchAs = (token: string, body: Record<string, unknown>) =>
      call(`/api/v1/admin/webhooks/${id}`, { method: "PATCH", token, body });
    const taker = "https://taker.example.com/in";
    const blog = await newKey(t.adminKey, [WRITE, "blog.post.read"]);

    // Narrowed to what the key reads and moved at once: what `*` routed to the endpoint until
    // then (its queue) would leave for the new URL.
    const narrowed = await patchAs(blog.key, { url: taker, events: ["blog.*"] });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(403);
    expect(narrowed.body.errors).toEqual([expect.objectContaining({ path: "body.url" })]);

    // Narrowed by the admin first, the endpoint keeps in its log (queued, or delivered and kept
    // for a redelivery, which goes to the endpoint's URL of the time) what `*` brought it: a key
    // created, here. Moved, a redelivery would send it to the new URL.
    const narrowing = await patchAs(t.adminKey, { events: ["blog.*"] });
    expect(narrowing.status).toBe(200);
    const test = await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    expect(test.status).toBe(202);
    const messageId = test.body.message_id as string;
    await runInDurableObject(env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`), (_, state) => {
      state.storage.sql.exec(
        "update deliveries set event_type = 'identity.key.created' where message_id = ?",
        messageId,
      );
    });
    const moved = await patchAs(blog.key, { url: taker });
    expect(moved.status, JSON.stringify(moved.body)).toBe(403);
    expect(moved.body.errors).toEqual([
      {
        path: "body.url",
        message: expect.stringContaining("the deliveries it keeps, read with admin.keys.read"),
      },
    ]);
    // Which types the log keeps is not said to a key the log hides them from.
    expect(JSON.stringify(moved.body)).not.toContain("identity.key.created");
    const after = await call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey });
    expect(after.body).toMatchObject({ url: "https://hooks.example.com/in", events: ["blog.*"] });

    // A key that reads it moves the endpoint; a move that keeps the URL is none. (What `*` routed to
    // the endpoint meanwhile, if the queue has done so by now: the keys created, the refusals
    // above, the endpoint's own changes.)
    const keys = await newKey(t.adminKey, [
      WRITE,
      "blog.post.read",
      "admin.keys.read",
      "admin.audit.read",
      "admin.webhooks.read",
    ]);
    expect((await patchAs(blog.key, { url: "https://hooks.example.com/in", events: ["blog.*"] })).status).toBe(200);
    const allowed = await patchAs(keys.key, { url: taker });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
  });
});

/** A module added to the deployment: one declaring who reads its events, one declaring none. */
const orders: ModuleDef = {
  name: "orders",
  version: "1.0.0",
  permissions: ["orders.order.read"],
  event_read: { "orders.*": "orders.order.read" },
  events: {
    publishes: z.discriminatedUnion("type", [
      z.object({ type: z.literal("orders.order.placed"), data: z.object({ id: z.string() }) }),
    ]),
  },
};
const plain: ModuleDef = {
  name: "plain",
  version: "1.0.0",
  events: {
    publishes: z.discriminatedUnion("type", [
      z.object({ type: z.literal("plain.thing.made"), data: z.object({ id: z.string() }) }),
    ]),
  },
};
const later = callerOf((path, init) => testApp([...modules, orders, plain]).fetch(path, init));

describe("webhook filters of a module's events (its manifest's event_read)", () => {
  it("needs the module's declared permission, or the audit log's for a module that declares none", async () => {
    const slug = `later-hooks-${Date.now().toString(36)}`;
    const tenant = await later("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "Later" } });
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    const owner = tenant.body.admin_key as string;
    const keyOf = async (scopes: string[]) => {
      const res = await later("/api/v1/admin/api-keys", { token: owner, body: { name: "k", scopes } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.key as string;
    };
    const create = (token: string, events: string[]) =>
      later("/api/v1/admin/webhooks", { token, body: endpoint(events) });

    const today = await keyOf([WRITE, ...EVERYTHING]);
    const everything = await create(today, ["*"]);
    expect(everything.status).toBe(403);
    expect(everything.body.detail).toBe("you do not hold orders.order.read, which read the events that * match");
    expect((await create(today, ["orders.*"])).status).toBe(403);
    expect((await create(today, ["plain.*"])).status).toBe(201);

    const ordersOnly = await keyOf([WRITE, "orders.order.read"]);
    expect((await create(ordersOnly, ["orders.order.placed"])).status).toBe(201);
    const plainRefused = await create(ordersOnly, ["plain.*"]);
    expect(plainRefused.body.errors).toEqual([
      { path: "body.events.0", message: "plain.* matches events read with admin.audit.read, which you do not hold" },
    ]);
  });
});
