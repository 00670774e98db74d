import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, callerOf, rootKey } from "../identity/helpers";

/**
 * A module registered when a tenant's webhook endpoint was made to follow its events, then
 * removed from the deployment (docs/modules.md, "Removing a module"): the endpoint keeps its
 * filter, which no published event type matches any more. `call` is the deployment without it.
 */
const gone: ModuleDef = {
  name: "gone",
  version: "1.0.0",
  events: {
    publishes: z.discriminatedUnion("type", [
      z.object({ type: z.literal("gone.thing.created"), data: z.object({ id: z.string() }) }),
    ]),
  },
};
const before = callerOf((path, init) => testApp([...modules, gone]).fetch(path, init));

let counter = 0;
/** A tenant created while `gone` was registered, with an endpoint following its events and the blog's. */
async function endpointOfRemovedModule() {
  const slug = `gone-hooks-${Date.now().toString(36)}-${++counter}`;
  const created = await before("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "Gone" } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const adminKey = created.body.admin_key as string;
  const endpoint = await before("/api/v1/admin/webhooks", {
    token: adminKey,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.created", "gone.thing.*"] },
  });
  expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
  return { adminKey, tenantId: created.body.id as string, id: endpoint.body.id as string };
}

describe("webhook filters of a removed module", () => {
  it("are read flagged, and the filters read can be sent back with a change", async () => {
    const t = await endpointOfRemovedModule();
    const read = await call(`/api/v1/admin/webhooks/${t.id}`, { token: t.adminKey });
    expect(read.status).toBe(200);
    expect(read.body.events).toEqual(["blog.post.created", "gone.thing.*"]);
    expect(read.body.unknown_events).toEqual(["gone.thing.*"]);
    const listed = await call("/api/v1/admin/webhooks", { token: t.adminKey });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: t.id, unknown_events: ["gone.thing.*"] })]);
    const platform = await call(`/api/v1/platform/tenants/${t.tenantId}/webhooks`, { token: rootKey() });
    expect(platform.status).toBe(200);
    expect(platform.body.items).toEqual([expect.objectContaining({ id: t.id, unknown_events: ["gone.thing.*"] })]);

    // An integrator's read-modify-write: one more filter, the rest as read.
    const patched = await call(`/api/v1/admin/webhooks/${t.id}`, {
      method: "PATCH",
      token: t.adminKey,
      headers: { "if-match": read.headers.get("etag") ?? "" },
      body: { events: [...(read.body.events as string[]), "blog.post.updated"] },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.events).toEqual(["blog.post.created", "gone.thing.*", "blog.post.updated"]);
    expect(patched.body.unknown_events).toEqual(["gone.thing.*"]);

    // Dropped, the filter is not flagged any more, and cannot come back.
    const dropped = await call(`/api/v1/admin/webhooks/${t.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { events: ["blog.post.created"] },
    });
    expect(dropped.status).toBe(200);
    expect(dropped.body).not.toHaveProperty("unknown_events");
    const again = await call(`/api/v1/admin/webhooks/${t.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { events: ["blog.post.created", "gone.thing.*"] },
    });
    expect(again.status).toBe(400);
    expect(again.body.errors).toEqual([
      { path: "body.events.1", message: "no registered module publishes events matching gone.thing.*" },
    ]);
  });

  it("a filter matching nothing that the endpoint does not hold stays a 400, and an endpoint without one has no flag", async () => {
    const t = await endpointOfRemovedModule();
    const typo = await call(`/api/v1/admin/webhooks/${t.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { events: ["blog.post.created", "gone.thing.*", "gone.other.*"] },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.errors).toEqual([
      { path: "body.events.2", message: "no registered module publishes events matching gone.other.*" },
    ]);
    const fresh = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/other", events: ["blog.post.*"] },
    });
    expect(fresh.status).toBe(201);
    expect(fresh.body).not.toHaveProperty("unknown_events");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/third", events: ["gone.thing.*"] },
    });
    expect(created.status).toBe(400);
  });
});
