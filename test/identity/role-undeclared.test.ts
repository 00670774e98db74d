import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { grantedTo } from "./grants";
import { call, callerOf, newUser, rootKey } from "./helpers";

/**
 * A module registered when a tenant was created, then removed from the deployment
 * (docs/modules.md, "Removing a module"): the tenant's roles and keys keep its permissions,
 * which no module declares any more. `call` is the deployment without it.
 */
const gone: ModuleDef = {
  name: "gone",
  version: "1.0.0",
  permissions: ["gone.thing.read", "gone.thing.create"],
  grants: { member: ["gone.thing.read", "gone.thing.create"] },
};
const before = callerOf((path, init) => testApp([...modules, gone]).fetch(path, init));

let counter = 0;
/** A tenant created while `gone` was registered, and a key it minted then holding one of its permissions. */
async function tenantOfRemovedModule() {
  const slug = `gone-${Date.now().toString(36)}-${++counter}`;
  const created = await before("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "Gone" } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const adminKey = created.body.admin_key as string;
  const key = await before("/api/v1/admin/api-keys", {
    token: adminKey,
    body: { name: "old", scopes: ["blog.post.read", "gone.thing.read"] },
  });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return { slug, adminKey, keyId: key.body.id as string };
}

describe("permissions of a removed module, in roles", () => {
  it("are read flagged, and a role read can be written back as read", async () => {
    const t = await tenantOfRemovedModule();
    const read = await call("/api/v1/admin/roles/member", { token: t.adminKey });
    expect(read.status).toBe(200);
    expect(read.body.permissions).toEqual(grantedTo("member", ["gone.thing.create", "gone.thing.read"]));
    expect(read.body.unknown_permissions).toEqual(["gone.thing.create", "gone.thing.read"]);
    const listed = await call("/api/v1/admin/roles", { token: t.adminKey });
    const member = (listed.body.items as { name: string }[]).find((r) => r.name === "member");
    expect(member).toEqual(read.body);

    // The read-modify-write every admin script does: add one permission, send the rest as read.
    const put = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      headers: { "if-match": read.headers.get("etag") ?? "" },
      body: { permissions: [...(read.body.permissions as string[]), "blog.post.update"], description: "" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.permissions).toContain("gone.thing.read");
    expect(put.body.unknown_permissions).toEqual(["gone.thing.create", "gone.thing.read"]);

    // Dropping them is a write like any other; then the role has none to flag.
    const dropped = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.create", "blog.post.read"] },
    });
    expect(dropped.status).toBe(200);
    expect(dropped.body).toEqual({
      name: "member",
      permissions: ["blog.post.create", "blog.post.read"],
      description: "",
      version: (put.body.version as number) + 1,
    });
  });

  it("one the role does not hold stays a 400, and none can be given back once dropped", async () => {
    const t = await tenantOfRemovedModule();
    const typo = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read", "gone.thing.read", "gone.thing.delete"] },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.detail).toBe("unknown permission: gone.thing.delete");
    expect((typo.body.errors as { path: string }[]).map((e) => e.path)).toEqual(["body.permissions.2"]);
    // The viewer role never held one: for it, the removed module's permission is as unknown as a typo.
    const viewer = await call("/api/v1/admin/roles/viewer", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["*.read", "gone.thing.read"] },
    });
    expect(viewer.status).toBe(400);
    const created = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "copy", permissions: ["gone.thing.read"] },
    });
    expect(created.status).toBe(400);
    expect(
      (await call("/api/v1/admin/roles/member", { method: "PUT", token: t.adminKey, body: { permissions: [] } }))
        .status,
    ).toBe(200);
    const again = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["gone.thing.read"] },
    });
    expect(again.status).toBe(400);
  });

  it("one dropped while the write was under way is not given back, whatever version If-Match names", async () => {
    // The route reads the role to learn which undeclared permissions it holds; the write must be
    // pinned to that read. An If-Match naming another version (here the one the drop is about to
    // make) left the write pinned to it instead: the drop landing between the read and the write
    // made that version current, and the permission it dropped came back with the PUT.
    const t = await tenantOfRemovedModule();
    const read = await call("/api/v1/admin/roles/member", { token: t.adminKey });
    const version = read.body.version as number;
    const drop: { answer?: { status: number; body: Record<string, unknown> } } = {};
    const racing = new Proxy(env.TENANT_DIRECTORY, {
      get(namespace, prop) {
        if (prop !== "getByName") return Reflect.get(namespace, prop);
        return (name: string) => {
          const stub = namespace.getByName(name);
          return new Proxy(stub, {
            get(target, method) {
              // An RPC stub's members are remote, `bind` too: each call goes through the stub itself.
              if (method !== "getRole") return (...args: unknown[]) => Reflect.get(target, method)(...args);
              return async (...args: unknown[]) => {
                const role = await target.getRole(...(args as [string]));
                // Another administrator drops the removed module's permissions right after the read.
                drop.answer ??= await call("/api/v1/admin/roles/member", {
                  method: "PUT",
                  token: t.adminKey,
                  body: { permissions: ["blog.post.create", "blog.post.read"] },
                });
                return role;
              };
            },
          });
        };
      },
    });
    const during = callerOf((path, init) => testApp(modules, { TENANT_DIRECTORY: racing }).fetch(path, init));
    const put = await during("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      headers: { "if-match": `"${version + 1}"` },
      body: { permissions: ["blog.post.create", "blog.post.read", "gone.thing.read"] },
    });
    expect(drop.answer?.status, JSON.stringify(drop.answer?.body)).toBe(200);
    expect(put.status, JSON.stringify(put.body)).toBe(412);
    const after = await call("/api/v1/admin/roles/member", { token: t.adminKey });
    expect(after.body.permissions).toEqual(["blog.post.create", "blog.post.read"]);
  });

  it("a pattern that covered only its permissions is flagged, kept when written back, refused anywhere new", async () => {
    const t = await tenantOfRemovedModule();
    const made = await before("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "gone-admin", permissions: ["blog.post.read", "gone.*"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const read = await call("/api/v1/admin/roles/gone-admin", { token: t.adminKey });
    expect(read.body.permissions).toEqual(["blog.post.read", "gone.*"]);
    expect(read.body.unknown_permissions).toEqual(["gone.*"]);
    const put = await call("/api/v1/admin/roles/gone-admin", {
      method: "PUT",
      token: t.adminKey,
      headers: { "if-match": read.headers.get("etag") ?? "" },
      body: { permissions: [...(read.body.permissions as string[]), "blog.post.update"], description: "" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.permissions).toEqual(["blog.post.read", "blog.post.update", "gone.*"]);
    expect(put.body.unknown_permissions).toEqual(["gone.*"]);
    // The role that does not hold it, a new role and a new key: as a typo.
    const viewer = await call("/api/v1/admin/roles/viewer", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["*.read", "gone.*"] },
    });
    expect([viewer.status, viewer.body.detail]).toEqual([400, "unknown permission: gone.*"]);
    const copy = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "copy", permissions: ["gone.*"] },
    });
    expect(copy.status).toBe(400);
    const key = await call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name: "new", scopes: ["gone.*"] } });
    expect(key.status).toBe(400);
  });

  it("grant nothing: a member's permissions name none of them", async () => {
    const t = await tenantOfRemovedModule();
    const u = await newUser(t.slug);
    const me = await call("/api/v1/me", { token: u.access_token });
    expect(me.status).toBe(200);
    expect(me.body.permissions).toEqual(grantedTo("member"));
  });
});

describe("permissions of a removed module, in API keys", () => {
  it("are flagged on a key's read, and a new key cannot be given them", async () => {
    const t = await tenantOfRemovedModule();
    const shown = await call(`/api/v1/admin/api-keys/${t.keyId}`, { token: t.adminKey });
    expect(shown.status).toBe(200);
    expect(shown.body.scopes).toEqual(["blog.post.read", "gone.thing.read"]);
    expect(shown.body.unknown_scopes).toEqual(["gone.thing.read"]);
    const listed = await call("/api/v1/admin/api-keys", { token: t.adminKey });
    expect((listed.body.items as { id: string }[]).find((k) => k.id === t.keyId)).toEqual(shown.body);
    const refused = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "new", scopes: ["gone.thing.read"] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toBe("unknown permission: gone.thing.read");
  });
});
