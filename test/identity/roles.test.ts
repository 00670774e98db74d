import { describe, expect, it } from "vitest";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { grantedTo } from "./grants";
import { call, callerOf, newTenant, newUser, rootKey } from "./helpers";

const grant = (token: string, userId: string, role: string, method = "PUT") =>
  call(`/api/v1/admin/users/${userId}/roles/${role}`, { method, token });

describe("roles (happy)", () => {
  it("lists the default roles", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/admin/roles", { token: t.adminKey });
    expect(res.status).toBe(200);
    const roles = res.body.items as { name: string; permissions: string[] }[];
    expect(roles.map((r) => r.name)).toEqual(["admin", "member", "owner", "viewer"]);
    expect(roles.find((r) => r.name === "viewer")?.permissions).toEqual(grantedTo("viewer", ["*.read"]));
  });

  it("creates, reads, replaces and deletes a role", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: {
        name: "editor",
        permissions: ["blog.post.update", "blog.post.read", "blog.post.update"],
        description: "Edits",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: "editor",
      permissions: ["blog.post.read", "blog.post.update"],
      description: "Edits",
      version: 1,
    });
    expect((await call("/api/v1/admin/roles/editor", { token: t.adminKey })).body.name).toBe("editor");
    const replaced = await call("/api/v1/admin/roles/editor", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read"] },
    });
    expect(replaced.body).toEqual({ name: "editor", permissions: ["blog.post.read"], description: "", version: 2 });
    expect((await call("/api/v1/admin/roles/editor", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await call("/api/v1/admin/roles/editor", { token: t.adminKey })).status).toBe(404);
  });

  it("a granted role takes effect at the user's next request, and a revoked one too", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    expect((await call("/api/v1/users", { token: u.access_token })).status).toBe(403);
    expect((await grant(t.adminKey, u.id, "viewer")).status).toBe(204);
    expect((await call("/api/v1/users", { token: u.access_token })).status).toBe(200);
    const me = await call("/api/v1/me", { token: u.access_token });
    expect((me.body.user as { roles: string[] }).roles).toEqual(["member", "viewer"]);
    expect((await grant(t.adminKey, u.id, "viewer", "DELETE")).status).toBe(204);
    expect((await call("/api/v1/users", { token: u.access_token })).status).toBe(403);
  });
});

describe("roles (errors)", () => {
  it("names unknown permissions and refuses a duplicate name", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "x", permissions: ["blog.post.read", "blog.post.fly", "not a permission"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.detail).toContain("blog.post.fly");
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual([
      "body.permissions.1",
      "body.permissions.2",
    ]);
    const dup = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "member", permissions: [] } });
    expect(dup.status).toBe(409);
  });

  it("a tenant holds at most 100 roles (the list is answered whole); deleting one makes room", async () => {
    const t = await newTenant();
    const count = async () =>
      ((await call("/api/v1/admin/roles", { token: t.adminKey })).body.items as unknown[]).length;
    const create = (name: string) =>
      call("/api/v1/admin/roles", { token: t.adminKey, body: { name, permissions: ["blog.post.read"] } });
    for (let i = await count(); i < 100; i++) expect((await create(`r${i}`)).status).toBe(201);
    const over = await create("one-more");
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ code: "role_limit_reached" });
    expect(await count()).toBe(100);
    expect((await call("/api/v1/admin/roles/r99", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await create("one-more")).status).toBe(201);
  });

  it("owner cannot be deleted or changed; a held role cannot be deleted; unknown users and roles 404", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    expect((await call("/api/v1/admin/roles/owner", { method: "DELETE", token: t.adminKey })).status).toBe(409);
    const put = await call("/api/v1/admin/roles/owner", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: [] },
    });
    expect(put.status).toBe(409);
    expect((await call("/api/v1/admin/roles/member", { method: "DELETE", token: t.adminKey })).status).toBe(409);
    expect((await grant(t.adminKey, u.id, "nope")).status).toBe(404);
    expect((await grant(t.adminKey, "no-such-user", "viewer")).status).toBe(404);
  });

  it("the last owner binding cannot be removed", async () => {
    const t = await newTenant();
    const a = await newUser(t.slug);
    const b = await newUser(t.slug);
    expect((await grant(t.adminKey, a.id, "owner")).status).toBe(204);
    const last = await grant(t.adminKey, a.id, "owner", "DELETE");
    expect(last.status).toBe(409);
    expect((await grant(t.adminKey, b.id, "owner")).status).toBe(204);
    expect((await grant(t.adminKey, a.id, "owner", "DELETE")).status).toBe(204);
  });
});

describe("roles (security)", () => {
  it("403 naming the missing permission without admin.roles.*", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const res = await call("/api/v1/admin/roles", { token: u.access_token });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("missing permission admin.roles.read");
  });

  it("no escalation through roles: a role writer cannot create or grant what it does not hold", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const writer = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "roles", scopes: ["admin.roles.write", "admin.roles.read", "blog.post.read"] },
    });
    const key = writer.body.key as string;
    const wide = await call("/api/v1/admin/roles", { token: key, body: { name: "godmode", permissions: ["*"] } });
    expect(wide.status).toBe(403);
    const narrow = await call("/api/v1/admin/roles", {
      token: key,
      body: { name: "reader", permissions: ["blog.post.read"] },
    });
    expect(narrow.status).toBe(201);
    expect((await grant(key, u.id, "reader")).status).toBe(204);
    expect((await grant(key, u.id, "admin")).status).toBe(403);
  });

  it("only owners (or the all-permission key) manage the owner role; admins cannot", async () => {
    const t = await newTenant();
    const admin = await newUser(t.slug);
    const other = await newUser(t.slug);
    expect((await grant(t.adminKey, admin.id, "admin")).status).toBe(204);
    const res = await grant(admin.access_token, other.id, "owner");
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(
      "only an owner grants or revokes the owner role, removes, renames, suspends, reactivates, signs out or exports a user who holds it or resets their two-factor or password, changes the mail links, or changes the SSO provider's issuer, client, allowed domains or app redirects",
    );
    expect((await grant(admin.access_token, other.id, "viewer")).status).toBe(204);
  });
});

describe("a module's grants to the default roles", () => {
  it("are in the roles of a tenant created after it is registered; other roles and modules are untouched", async () => {
    const probe: ModuleDef = {
      name: "granted",
      version: "1.0.0",
      permissions: ["granted.thing.read", "granted.thing.create", "granted.thing.delete"],
      grants: { member: ["granted.thing.read", "granted.thing.create"], viewer: ["granted.thing.read"] },
    };
    const platform = callerOf((path, init) => testApp([...modules, probe]).fetch(path, init));
    const created = await platform("/api/v1/platform/tenants", {
      token: rootKey(),
      body: { slug: `granted-${Date.now().toString(36)}`, name: "Granted" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await platform("/api/v1/admin/roles", { token: created.body.admin_key as string });
    const roles = Object.fromEntries(
      (res.body.items as { name: string; permissions: string[] }[]).map((r) => [r.name, r.permissions]),
    );
    expect(roles).toEqual({
      owner: ["*"],
      admin: ["*"],
      member: grantedTo("member", ["granted.thing.create", "granted.thing.read"]),
      viewer: grantedTo("viewer", ["*.read", "granted.thing.read"]),
    });
  });
});
