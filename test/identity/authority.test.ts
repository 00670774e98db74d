// The authority rules over HTTP: each hole an attack found on the earlier rules,
// the owner invariants, key cascades and the platform's recovery route.
import { describe, expect, it } from "vitest";
import { auditOf, call, newKey, newTenant, newUser, PASSWORD, rootKey } from "./helpers";

const bind = (token: string, userId: string, role: string, method: "PUT" | "DELETE" = "PUT") =>
  call(`/api/v1/admin/users/${userId}/roles/${role}`, { method, token });

/** The tenant's own `*` key (named "admin" at creation), as a listing shows it. */
async function adminKeyId(token: string): Promise<string> {
  const res = await call("/api/v1/admin/api-keys?limit=100", { token });
  const keys = res.body.items as { id: string; name: string; scopes: string[] }[];
  const all = keys.find((k) => k.scopes.includes("*"));
  if (!all) throw new Error("no * key");
  return all.id;
}

describe("authority: owners", () => {
  it("an admin cannot delete the owner, nor can a key holding only identity.user.delete", async () => {
    const t = await newTenant("own");
    const owner = await newUser(t.slug);
    const admin = await newUser(t.slug);
    expect((await bind(t.adminKey, owner.id, "owner")).status).toBe(204);
    expect((await bind(t.adminKey, admin.id, "admin")).status).toBe(204);
    const byAdmin = await call(`/api/v1/users/${owner.id}`, { method: "DELETE", token: admin.access_token });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.detail).toContain("only an owner");
    const deleter = await newKey(t.adminKey, ["identity.user.delete"]);
    expect((await call(`/api/v1/users/${owner.id}`, { method: "DELETE", token: deleter.key })).status).toBe(403);
    // Nor an admin: `*` is only an owner's to take away.
    expect((await call(`/api/v1/users/${admin.id}`, { method: "DELETE", token: deleter.key })).status).toBe(403);
    expect((await call(`/api/v1/users/${owner.id}`, { token: t.adminKey })).status).toBe(200);
  });

  it("the last owner can be removed by no route: revoke, deletion by the * key, self-deletion", async () => {
    const t = await newTenant("last");
    const owner = await newUser(t.slug);
    expect((await bind(t.adminKey, owner.id, "owner")).status).toBe(204);
    const revoke = await bind(t.adminKey, owner.id, "owner", "DELETE");
    expect(revoke.status).toBe(409);
    expect(revoke.body.detail).toBe("the tenant's last owner cannot be removed");
    expect((await call(`/api/v1/users/${owner.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(409);
    // Self-deletion is DELETE /me, with the password (the administrators' route refuses one's own account).
    const deleteMe = () =>
      call("/api/v1/me", { method: "DELETE", token: owner.access_token, body: { password: PASSWORD } });
    const self = await deleteMe();
    expect(self.status).toBe(409);
    // With a second owner, the first may go.
    const second = await newUser(t.slug);
    expect((await bind(owner.access_token, second.id, "owner")).status).toBe(204);
    expect((await deleteMe()).status).toBe(204);
  });
});

describe("authority: keys and roles", () => {
  it("a key scoped admin.keys.* cannot revoke the tenant's * key", async () => {
    const t = await newTenant("keys");
    const keys = await newKey(t.adminKey, ["admin.keys.read", "admin.keys.write"]);
    const id = await adminKeyId(keys.key);
    const res = await call(`/api/v1/admin/api-keys/${id}`, { method: "DELETE", token: keys.key });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("you do not hold *");
    expect((await call("/api/v1/admin/api-keys", { token: t.adminKey })).status).toBe(200);
  });

  it("keys take permission patterns as roles do: an owner hands out *, an admin may not, a narrow key no wider pattern", async () => {
    const t = await newTenant("patterns");
    const create = (token: string, scopes: string[]) =>
      call("/api/v1/admin/api-keys", { token, body: { name: "p", scopes } });
    // The owner table's first row: the tenant's * key (an owner) may create a key with scope *.
    const all = await create(t.adminKey, ["*"]);
    expect(all.status).toBe(201);
    expect(all.body.scopes).toEqual(["*"]);
    expect((await call("/api/v1/me", { token: all.body.key as string })).status).toBe(200);
    const blog = await create(t.adminKey, ["blog.*"]);
    expect(blog.status).toBe(201);
    expect((await call("/api/v1/blog/posts", { token: blog.body.key as string })).status).toBe(200);
    // An admin holds everything but *: not a * key.
    const admin = await newUser(t.slug);
    expect((await bind(t.adminKey, admin.id, "admin")).status).toBe(204);
    const byAdmin = await create(admin.access_token, ["*"]);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.detail).toBe("you do not hold *");
    // A key holding one blog permission hands out no pattern wider than itself.
    const reader = await newKey(t.adminKey, ["blog.post.read"]);
    expect((await create(reader.key, ["blog.*"])).status).toBe(403);
    // A pattern that is no pattern plinth knows is still a 400.
    expect((await create(t.adminKey, ["blog.**"])).status).toBe(400);
  });

  it("a key scoped admin.roles.* cannot rewrite admin nor revoke a role it does not hold", async () => {
    const t = await newTenant("roles");
    const viewer = await newUser(t.slug);
    expect((await bind(t.adminKey, viewer.id, "viewer")).status).toBe(204);
    const roles = await newKey(t.adminKey, ["admin.roles.read", "admin.roles.write"]);
    const rewrite = await call("/api/v1/admin/roles/admin", {
      method: "PUT",
      token: roles.key,
      body: { permissions: ["blog.post.read"] },
    });
    expect(rewrite.status).toBe(403);
    expect(rewrite.body.detail).toBe("you do not hold *, blog.post.read");
    expect((await call("/api/v1/admin/roles/admin", { token: t.adminKey })).body.permissions).toEqual(["*"]);
    expect((await bind(roles.key, viewer.id, "viewer", "DELETE")).status).toBe(403);
    const user = await call(`/api/v1/users/${viewer.id}`, { token: t.adminKey });
    expect(user.body.roles).toEqual(["member", "viewer"]);
  });

  it("a key minted by a key is revoked with it, at once, and the cascade is on record", async () => {
    const t = await newTenant("cascade");
    const parent = await newKey(t.adminKey, ["admin.keys.read", "admin.keys.write", "blog.post.read"]);
    const child = await newKey(parent.key, ["admin.keys.write", "blog.post.read"]);
    const grandchild = await newKey(child.key, ["blog.post.read"]);
    const sibling = await newKey(t.adminKey, ["blog.post.read"]);
    for (const k of [child, grandchild]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(200);
    expect((await call(`/api/v1/admin/api-keys/${parent.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(
      204,
    );
    for (const k of [parent, child, grandchild]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(401);
    expect((await call("/api/v1/me", { token: sibling.key })).status).toBe(200);
    const revoked = await auditOf(t.adminKey, "identity.key.revoked", 3);
    const byKey = new Map(revoked.map((e) => [e.target?.split("/").at(-1), e.detail]));
    expect(byKey.get(parent.id)).toBeUndefined();
    expect(byKey.get(child.id)).toEqual({ cause: "cascade", parent_key_id: parent.id });
    expect(byKey.get(grandchild.id)).toEqual({ cause: "cascade", parent_key_id: child.id });
  });
});

describe("authority: replacing a key with a key it minted", () => {
  it("refuses to revoke a key whose cascade would take the calling key, revokes nothing, and says how", async () => {
    // The natural rotation of an admin key: mint the replacement with the old key, switch,
    // revoke the old one with the new. The cascade would revoke the replacement too and lock
    // the tenant out, behind a 204.
    const t = await newTenant("rotate");
    const oldId = await adminKeyId(t.adminKey);
    const replacement = await newKey(t.adminKey, ["*"], "admin-next");
    const res = await call(`/api/v1/admin/api-keys/${oldId}`, { method: "DELETE", token: replacement.key });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.code).toBe("revokes_own_key");
    expect(res.body.detail).toContain("recover-key");
    for (const k of [t.adminKey, replacement.key]) expect((await call("/api/v1/me", { token: k })).status).toBe(200);
    // Two levels down is the same cascade.
    const grandchild = await newKey(replacement.key, ["*"]);
    const deep = await call(`/api/v1/admin/api-keys/${oldId}`, { method: "DELETE", token: grandchild.key });
    expect(deep.status).toBe(409);
    // A replacement the old key did not mint (the platform's recovery key) revokes it.
    const recovery = await call(`/api/v1/platform/tenants/${t.id}/admin-keys`, {
      token: rootKey(),
      body: { name: "admin-next" },
    });
    expect(recovery.status).toBe(201);
    const key = recovery.body.key as string;
    expect((await call(`/api/v1/admin/api-keys/${oldId}`, { method: "DELETE", token: key })).status).toBe(204);
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(401);
    expect((await call("/api/v1/me", { token: key })).status).toBe(200);
  });
});

describe("authority: a deleted user's keys", () => {
  it("go with the user, with the keys they minted, at once and on record; the listing names each key's creator", async () => {
    const t = await newTenant("leaver");
    const leaver = await newUser(t.slug);
    expect((await bind(t.adminKey, leaver.id, "admin")).status).toBe(204);
    const own = await newKey(leaver.access_token, ["admin.keys.write", "blog.post.read"]);
    const minted = await newKey(own.key, ["blog.post.read"]);
    const others = await newKey(t.adminKey, ["blog.post.read"]);
    const listed = await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    const creators = new Map(
      (listed.body.items as { id: string; created_by: string | null }[]).map((k) => [k.id, k.created_by]),
    );
    expect(creators.get(own.id)).toBe(leaver.id);
    expect(creators.get(minted.id)).toBe(own.id);
    for (const k of [own, minted]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(200);

    expect((await call(`/api/v1/users/${leaver.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    for (const k of [own, minted]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(401);
    expect((await call("/api/v1/me", { token: others.key })).status).toBe(200);
    const revoked = await auditOf(t.adminKey, "identity.key.revoked", 2);
    const byKey = new Map(revoked.map((e) => [e.target?.split("/").at(-1), e.detail]));
    expect(byKey.get(own.id)).toEqual({ cause: "creator_deleted", user_id: leaver.id });
    expect(byKey.get(minted.id)).toEqual({ cause: "cascade", parent_key_id: own.id });
    expect(byKey.has(others.id)).toBe(false);
  });
});

describe("authority: deleting the user a calling key descends from", () => {
  it("answers 409 revokes_own_key and deletes nothing: the cascade would revoke the calling key behind a 204", async () => {
    const t = await newTenant("leaver-own");
    const permissions = ["identity.user.delete", "admin.keys.write", "blog.post.create", "blog.post.read"];
    const role = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "keeper", permissions } });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const creator = await newUser(t.slug);
    expect((await bind(t.adminKey, creator.id, "keeper")).status).toBe(204);
    const k1 = await newKey(creator.access_token, permissions);
    const k2 = await newKey(k1.key, permissions);
    for (const k of [k2, k1]) {
      const res = await call(`/api/v1/users/${creator.id}`, { method: "DELETE", token: k.key });
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.code).toBe("revokes_own_key");
    }
    for (const k of [k1, k2]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(200);
    expect((await call(`/api/v1/users/${creator.id}`, { token: t.adminKey })).status).toBe(200);
    // A credential the user's keys did not come from deletes them, and their keys go with them.
    expect((await call(`/api/v1/users/${creator.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    for (const k of [k1, k2]) expect((await call("/api/v1/me", { token: k.key })).status).toBe(401);
  });
});

describe("authority: recovery by the platform", () => {
  it("a tenant whose last * key was revoked gets a new one, shown once, audited as the platform's", async () => {
    const t = await newTenant("recover");
    const id = await adminKeyId(t.adminKey);
    expect((await call(`/api/v1/admin/api-keys/${id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await call("/api/v1/admin/api-keys", { token: t.adminKey })).status).toBe(401);
    const res = await call(`/api/v1/platform/tenants/${t.id}/admin-keys`, {
      token: rootKey(),
      body: { name: "recovery" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({ name: "recovery", scopes: ["*"], created_by: "platform" });
    expect(Object.keys(res.body).sort()).toEqual([
      "created_at",
      "created_by",
      "expires_at",
      "id",
      "key",
      "name",
      "prefix",
      "scopes",
    ]);
    const key = res.body.key as string;
    const listed = await call("/api/v1/admin/api-keys", { token: key });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    const created = await auditOf(key, "identity.key.created", 2);
    expect(created[0]?.actor).toEqual({ kind: "platform", id: "platform" });
    expect(created[0]?.target?.endsWith(`/key/${res.body.id}`)).toBe(true);
  });

  it("answers 404 for an unknown tenant, 400 for a bad body, and only to the root key", async () => {
    const t = await newTenant("recover2");
    const path = `/api/v1/platform/tenants/${t.id}/admin-keys`;
    expect(
      (await call("/api/v1/platform/tenants/nope/admin-keys", { token: rootKey(), body: { name: "x" } })).status,
    ).toBe(404);
    expect((await call(path, { token: rootKey(), body: { name: "" } })).status).toBe(400);
    expect((await call(path, { token: t.adminKey, body: { name: "x" } })).status).toBe(403);
    expect((await call(path, { body: { name: "x" } })).status).toBe(401);
  });
});
