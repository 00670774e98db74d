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

  it("records the changed field names in the audit entry's detail", async () => {
    const t = await newTenant("rename-audit");
    const member = await newUser(t.slug);
    expect((await rename(t.adminKey, member.id, "Grace")).status).toBe(200);
    const [entry] = await auditOf(t.adminKey, "identity.user.updated");
    expect(entry?.target).toContain(`user/${member.id}`);
    expect(entry?.detail).toEqual({ fields: ["name"] });
  });
});
