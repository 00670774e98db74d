import { describe, expect, it } from "vitest";
import { auditOf, call, mailSettled, mailsTo, newKey, newTenant, newUser } from "./helpers";

// The owner rules of an administrator's reset, as a two-factor reset's (docs/identity.md#who-may-change-authority):
// never one's own account (nor through a key one created), only an owner resets an owner, and the
// caller holds every permission the user's roles grant. Each refusal mails nothing and is on record.
const resetOf = (token: string, id: string) =>
  call(`/api/v1/users/${id}/password-reset`, { token, method: "POST", body: { sign_out: true } });

async function grant(adminKey: string, userId: string, role: string) {
  const res = await call(`/api/v1/admin/users/${userId}/roles/${role}`, { token: adminKey, method: "PUT" });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

async function noResetMailTo(slug: string, email: string) {
  await mailSettled(slug);
  expect((await mailsTo(slug, email)).filter((m) => m.subject.startsWith("Reset"))).toEqual([]);
}

describe("POST /api/v1/users/{id}/password-reset: who may", () => {
  it("only an owner resets an owner; nobody their own account through it", async () => {
    const t = await newTenant("admin-reset-owner");
    const owner = await newUser(t.slug);
    const admin = await newUser(t.slug);
    await grant(t.adminKey, owner.id, "owner");
    await grant(t.adminKey, admin.id, "admin");

    const byAdmin = await resetOf(admin.access_token, owner.id);
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(403);
    expect(String(byAdmin.body.detail)).toContain("only an owner");
    const self = await resetOf(owner.access_token, owner.id);
    expect(self.status, JSON.stringify(self.body)).toBe(403);
    expect(String(self.body.detail)).toContain("POST /api/v1/auth/change-password");
    // The owner's sessions survived both refusals (sign_out was asked), and no mail went.
    expect((await call("/api/v1/me", { token: owner.access_token })).status).toBe(200);
    await noResetMailTo(t.slug, owner.email);

    // The tenant's owner key may: an owner resets an owner.
    expect((await resetOf(t.adminKey, owner.id)).status).toBe(202);
    const denied = await auditOf(t.adminKey, "authz.denied", 2);
    const rules = denied
      .filter((e) => e.detail?.route === "/api/v1/users/:id/password-reset")
      .map((e) => e.detail?.rule);
    expect(rules.sort()).toEqual(["own_account", "owner_only"]);
  });

  it("the caller must hold every permission the user's roles grant", async () => {
    const t = await newTenant("admin-reset-held");
    // A helpdesk role: it may reset members' passwords, not an admin's (who holds more).
    const role = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "helpdesk", permissions: ["identity.user.update", "blog.post.create", "blog.post.read"] },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const desk = await newUser(t.slug);
    const admin = await newUser(t.slug);
    const member = await newUser(t.slug);
    await grant(t.adminKey, desk.id, "helpdesk");
    await grant(t.adminKey, admin.id, "admin");

    const refused = await resetOf(desk.access_token, admin.id);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(String(refused.body.detail)).toContain("you do not hold");
    await noResetMailTo(t.slug, admin.email);
    // Without identity.user.update at all: the route's permission.
    const byMember = await resetOf(member.access_token, desk.id);
    expect(byMember.status).toBe(403);
    expect(byMember.body.detail).toBe("missing permission identity.user.update");
    expect((await resetOf(desk.access_token, member.id)).status).toBe(202);
  });

  it("a key the user created cannot reset them", async () => {
    const t = await newTenant("admin-reset-key");
    const admin = await newUser(t.slug);
    await grant(t.adminKey, admin.id, "admin");
    const theirs = await newKey(admin.access_token, ["admin.keys.write", "identity.user.update", "blog.post.read"]);
    const minted = await newKey(theirs.key, ["identity.user.update", "blog.post.read"]);
    // Someone the key's reach covers: a user with no role grants nothing the key lacks.
    const member = await newUser(t.slug);
    const bare = await call(`/api/v1/admin/users/${member.id}/roles/member`, { token: t.adminKey, method: "DELETE" });
    expect(bare.status).toBe(204);

    for (const key of [theirs.key, minted.key]) {
      const res = await resetOf(key, admin.id);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(String(res.body.detail)).toContain("a key you (or a key of yours) created acts as you");
    }
    expect((await call("/api/v1/me", { token: admin.access_token })).status).toBe(200);
    await noResetMailTo(t.slug, admin.email);
    // The same key acts on someone else within its reach.
    expect((await resetOf(theirs.key, member.id)).status).toBe(202);
  });
});
