import { describe, expect, it } from "vitest";
import { auditOf, call, login, newKey, newTenant, newUser, PASSWORD } from "./helpers";

const suspend = (token: string, id: string, reason?: string) =>
  call(`/api/v1/users/${id}/suspend`, {
    token,
    method: "POST",
    ...(reason === undefined ? {} : { body: { reason } }),
  });
const reactivate = (token: string, id: string) => call(`/api/v1/users/${id}/reactivate`, { token, method: "POST" });

async function grant(adminKey: string, userId: string, role: string) {
  const res = await call(`/api/v1/admin/users/${userId}/roles/${role}`, { token: adminKey, method: "PUT" });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

describe("POST /api/v1/users/{id}/suspend and /reactivate", () => {
  it("blocks a member's sign-in and sessions without deleting them, and lets them back in", async () => {
    const t = await newTenant("suspend");
    const member = await newUser(t.slug);
    expect((await call("/api/v1/me", { token: member.access_token })).status).toBe(200);

    const res = await suspend(t.adminKey, member.id, "left the project");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: member.id, status: "suspended", suspended_reason: "left the project" });
    expect(typeof res.body.suspended_at).toBe("string");

    // Visible where admins look: the user, and the list.
    const read = await call(`/api/v1/users/${member.id}`, { token: t.adminKey });
    expect(read.body).toMatchObject({ status: "suspended", suspended_reason: "left the project" });
    const list = await call("/api/v1/users", { token: t.adminKey });
    const items = list.body.items as { id: string; status: string }[];
    expect(items.find((u) => u.id === member.id)?.status).toBe("suspended");

    // The access token already issued stops at once in this isolate; the refresh token with it.
    expect((await call("/api/v1/me", { token: member.access_token })).status).toBe(401);
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: member.refresh_token },
    });
    expect(refreshed.status).toBe(401);

    // The right password hears why; a wrong one hears what an unknown email hears.
    const right = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: member.email, password: PASSWORD },
    });
    expect(right.status, JSON.stringify(right.body)).toBe(403);
    expect(right.body.code).toBe("account_suspended");
    const wrong = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: member.email, password: "not the password at all" },
    });
    const unknown = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "nobody@example.com", password: "not the password at all" },
    });
    expect(wrong.status).toBe(401);
    expect({ ...wrong.body, request_id: null }).toEqual({ ...unknown.body, request_id: null });

    const [entry] = await auditOf(t.adminKey, "identity.user.suspended");
    expect(entry?.target).toContain(`user/${member.id}`);
    expect(entry?.detail).toEqual({ reason: "left the project" });

    const back = await reactivate(t.adminKey, member.id);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).toMatchObject({ status: "active", suspended_at: null, suspended_reason: null });
    const again = await login(t.slug, member.email);
    expect((await call("/api/v1/me", { token: again.access_token })).status).toBe(200);
    const [reactivated] = await auditOf(t.adminKey, "identity.user.reactivated");
    expect(reactivated?.target).toContain(`user/${member.id}`);
  });

  it("is idempotent: a repeat keeps the first time and reason and records nothing more", async () => {
    const t = await newTenant("suspend-again");
    const member = await newUser(t.slug);
    const first = await suspend(t.adminKey, member.id, "first");
    // The same reason, or none: the harmless retry.
    for (const reason of ["first", undefined]) {
      const again = await suspend(t.adminKey, member.id, reason);
      expect(again.status).toBe(200);
      expect(again.body.suspended_at).toBe(first.body.suspended_at);
      expect(again.body.suspended_reason).toBe("first");
    }
    // Another reason is not dropped without a word: 409 naming the suspension kept.
    const other = await suspend(t.adminKey, member.id, "second");
    expect(other.status).toBe(409);
    expect(String(other.body.detail)).toContain('"first"');
    expect((await call(`/api/v1/users/${member.id}`, { token: t.adminKey })).body.suspended_reason).toBe("first");
    // Without a body: no reason, and a user already active stays as they are.
    const otherUser = await newUser(t.slug);
    const bare = await suspend(t.adminKey, otherUser.id);
    expect(bare.status, JSON.stringify(bare.body)).toBe(200);
    expect(bare.body.suspended_reason).toBeNull();
    expect((await reactivate(t.adminKey, member.id)).status).toBe(200);
    expect((await reactivate(t.adminKey, member.id)).body.status).toBe("active");
    // Each change recorded once: the later reactivation's entry arrives after the suspensions' entries.
    await auditOf(t.adminKey, "identity.user.reactivated");
    const suspended = await auditOf(t.adminKey, "identity.user.suspended", 2);
    expect(suspended.map((e) => e.target).sort()).toEqual(
      [`${t.id}/user/${member.id}`, `${t.id}/user/${otherUser.id}`].sort(),
    );
  });

  it("follows the owner rules: only an owner suspends an owner, nobody themself, never the last owner who can sign in", async () => {
    const t = await newTenant("suspend-owner");
    const owner = await newUser(t.slug);
    const admin = await newUser(t.slug);
    const member = await newUser(t.slug);
    await grant(t.adminKey, owner.id, "owner");
    await grant(t.adminKey, admin.id, "admin");

    const byAdmin = await suspend(admin.access_token, owner.id);
    expect(byAdmin.status).toBe(403);
    expect(String(byAdmin.body.detail)).toContain("only an owner");
    const self = await suspend(admin.access_token, admin.id);
    expect(self.status).toBe(403);
    expect(String(self.body.detail)).toContain("nobody suspends their own account");
    // The tenant's only owner, even by the owner key.
    const last = await suspend(t.adminKey, owner.id);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe("last_owner");

    // With a second owner one may go; the other is then the last who can sign in.
    const second = await newUser(t.slug);
    await grant(t.adminKey, second.id, "owner");
    expect((await suspend(second.access_token, owner.id)).status).toBe(200);
    expect((await suspend(t.adminKey, second.id)).status).toBe(409);
    // Nor may that owner give up the role while the other is suspended.
    const revoke = await call(`/api/v1/admin/users/${second.id}/roles/owner`, { token: t.adminKey, method: "DELETE" });
    expect(revoke.status).toBe(409);

    // Without the permission: a member is refused (the admin may suspend a member).
    expect((await suspend(member.access_token, admin.id)).status).toBe(403);
    expect((await suspend(admin.access_token, member.id)).status).toBe(200);
    // Only an owner reactivates an owner.
    expect((await reactivate(admin.access_token, owner.id)).status).toBe(403);
    expect((await reactivate(second.access_token, owner.id)).status).toBe(200);

    const denied = await auditOf(t.adminKey, "authz.denied", 3);
    expect(denied.some((e) => e.detail?.rule === "own_suspension")).toBe(true);
  });

  it("pauses the API keys the user created, which work again once they are reactivated", async () => {
    const t = await newTenant("suspend-keys");
    // An admin's key, as a member's role does not make keys: capped by what its creator holds now.
    const member = await newUser(t.slug);
    await grant(t.adminKey, member.id, "admin");
    const key = await newKey(member.access_token, ["blog.post.read"]);
    expect((await call("/api/v1/blog/posts", { token: key.key })).status).toBe(200);

    expect((await suspend(t.adminKey, member.id)).status).toBe(200);
    const paused = await call("/api/v1/blog/posts", { token: key.key });
    expect(paused.status).toBe(403);
    // Not revoked: still listed, and the same key works after the reactivation.
    const keys = await call("/api/v1/admin/api-keys", { token: t.adminKey });
    expect((keys.body.items as { id: string }[]).some((k) => k.id === key.id)).toBe(true);

    expect((await reactivate(t.adminKey, member.id)).status).toBe(200);
    expect((await call("/api/v1/blog/posts", { token: key.key })).status).toBe(200);
  });

  it("refuses a key the user created from suspending them (it would hold nothing after)", async () => {
    const t = await newTenant("suspend-own-key");
    const owner = await newUser(t.slug);
    const other = await newUser(t.slug);
    await grant(t.adminKey, owner.id, "owner");
    await grant(t.adminKey, other.id, "owner");
    // The owner's own "*" key, and one minted from it: each would go quiet with its creator.
    const key = await newKey(owner.access_token, ["*"]);
    const minted = await newKey(key.key, ["identity.user.suspend", "*"]);
    for (const k of [key.key, minted.key]) {
      const res = await suspend(k, owner.id);
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.code).toBe("revokes_own_key");
    }
    expect((await call(`/api/v1/users/${owner.id}`, { token: t.adminKey })).body.status).toBe("active");
    // Another owner's credential may.
    expect((await suspend(other.access_token, owner.id)).status).toBe(200);
  });

  it("answers 404 for an unknown user and another tenant's", async () => {
    const t = await newTenant("suspend-404");
    const other = await newTenant("suspend-404-other");
    const stranger = await newUser(other.slug);
    // The route's own answer (a missing route would be a 404 too, without this detail).
    for (const res of [
      await suspend(t.adminKey, "01JUNKNOWNUSER"),
      await suspend(t.adminKey, stranger.id),
      await reactivate(t.adminKey, stranger.id),
    ]) {
      expect({ status: res.status, detail: res.body.detail }).toEqual({ status: 404, detail: "no such user" });
    }
    // The stranger was not touched in their own tenant.
    expect((await call(`/api/v1/users/${stranger.id}`, { token: other.adminKey })).body.status).toBe("active");
  });
});
