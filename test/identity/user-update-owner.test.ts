import { describe, expect, it } from "vitest";
import { auditOf, call, newKey, newTenant, newUser } from "./helpers";

const rename = (token: string, id: string, name: string) =>
  call(`/api/v1/users/${id}`, { token, method: "PATCH", body: { name } });

async function grant(adminKey: string, userId: string, role: string) {
  const res = await call(`/api/v1/admin/users/${userId}/roles/${role}`, { token: adminKey, method: "PUT" });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

describe("PATCH /api/v1/users/{id} on another user (identity.user.update)", () => {
  it("only an owner renames an owner, as only an owner signs one out or resets their two-factor", async () => {
    const t = await newTenant("rename-owner");
    const admin = await newUser(t.slug, "admin@example.com");
    const owner = await newUser(t.slug, "owner@example.com");
    const member = await newUser(t.slug, "member@example.com");
    await grant(t.adminKey, admin.id, "admin");
    await grant(t.adminKey, owner.id, "owner");

    const byAdmin = await rename(admin.access_token, owner.id, "Not The Owner");
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(403);
    expect(String(byAdmin.body.detail)).toContain("only an owner");
    const still = await call(`/api/v1/users/${owner.id}`, { token: owner.access_token });
    expect(still.body.name).toBe("Ada");

    // A key scoped to identity.user.update is no owner either.
    const scoped = await newKey(t.adminKey, ["identity.user.update"]);
    expect((await rename(scoped.key, owner.id, "Nor This")).status).toBe(403);

    // An admin renames a member; an owner (and the owner key) renames an owner; anyone renames themself.
    expect((await rename(admin.access_token, member.id, "Renamed Member")).status).toBe(200);
    expect((await rename(t.adminKey, owner.id, "Owner By Key")).status).toBe(200);
    expect((await rename(owner.access_token, owner.id, "Owner Self")).status).toBe(200);
    expect((await rename(member.access_token, member.id, "Member Self")).status).toBe(200);

    const denied = await auditOf(t.adminKey, "authz.denied", 2);
    expect(denied.filter((e) => e.detail?.rule === "owner_only").length).toBeGreaterThanOrEqual(2);
  });

  it("the caller must hold every permission the user's roles grant, as for suspending or signing them out", async () => {
    const t = await newTenant("rename-held");
    // A role granting `*`, which an admin's role grants but an admin does not hold (only owners do).
    const sudo = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "sudo", permissions: ["*"] } });
    expect(sudo.status, JSON.stringify(sudo.body)).toBe(201);
    // A helpdesk role: it may rename members, not a user whose role grants admin.keys.write.
    for (const [name, permissions] of [
      ["helpdesk", ["identity.user.update", "blog.post.create", "blog.post.read"]],
      ["keyholder", ["admin.keys.write"]],
    ] as const) {
      const res = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name, permissions } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const admin = await newUser(t.slug);
    const desk = await newUser(t.slug);
    const powerful = await newUser(t.slug);
    const keyholder = await newUser(t.slug);
    const member = await newUser(t.slug);
    await grant(t.adminKey, admin.id, "admin");
    await grant(t.adminKey, desk.id, "helpdesk");
    await grant(t.adminKey, powerful.id, "sudo");
    await grant(t.adminKey, keyholder.id, "keyholder");

    const byAdmin = await rename(admin.access_token, powerful.id, "Renamed By Admin");
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(403);
    expect(byAdmin.body.detail).toBe("you do not hold *");
    const byDesk = await rename(desk.access_token, keyholder.id, "Renamed By Desk");
    expect(byDesk.status, JSON.stringify(byDesk.body)).toBe(403);
    expect(byDesk.body.detail).toBe("you do not hold admin.keys.write");
    // A key holds its scopes: one scoped to identity.user.update alone renames nobody holding more.
    const deskKey = await newKey(t.adminKey, ["identity.user.update"]);
    const byKey = await rename(deskKey.key, member.id, "Renamed By Key");
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(403);
    expect(String(byKey.body.detail)).toContain("blog.post.read");
    for (const u of [powerful, keyholder, member])
      expect((await call(`/api/v1/users/${u.id}`, { token: t.adminKey })).body.name).toBe("Ada");

    // Who holds what the user's roles grant renames them; anyone renames themself.
    expect((await rename(desk.access_token, member.id, "Member By Desk")).status).toBe(200);
    expect((await rename(admin.access_token, keyholder.id, "Keyholder By Admin")).status).toBe(200);
    expect((await rename(t.adminKey, powerful.id, "Sudo By Owner Key")).status).toBe(200);
    expect((await rename(powerful.access_token, powerful.id, "Sudo Self")).status).toBe(200);

    const denied = await auditOf(t.adminKey, "authz.denied", 3);
    const held = denied.filter((e) => e.detail?.route === "/api/v1/users/:id" && e.detail?.rule === "not_held");
    expect(held.map((e) => e.target)).toHaveLength(3);
    expect(held.map((e) => e.detail?.permissions)).toEqual(expect.arrayContaining([["*"], ["admin.keys.write"]]));
  });

  it("changes a name only: roles and email are refused (400), not ignored, even for an owner key", async () => {
    const t = await newTenant("rename-fields");
    const member = await newUser(t.slug);
    const res = await call(`/api/v1/users/${member.id}`, {
      token: t.adminKey,
      method: "PATCH",
      body: { name: "Grace", roles: ["owner"], email: "other@example.com" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const after = await call(`/api/v1/users/${member.id}`, { token: t.adminKey });
    expect(after.body).toMatchObject({ name: "Ada", roles: ["member"], email: member.email });
  });

  it("records the changed field names in the audit entry's detail", async () => {
    const t = await newTenant("rename-audit");
    const member = await newUser(t.slug);
    expect((await rename(t.adminKey, member.id, "Grace")).status).toBe(200);
    const [entry] = await auditOf(t.adminKey, "identity.user.updated");
    expect(entry?.target).toContain(`user/${member.id}`);
    expect(entry?.detail).toEqual({ fields: ["name"] });
  });
});
