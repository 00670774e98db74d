// A user deletes their own account (DELETE /api/v1/me), as an app must let them: the `member`
// role every registered user gets does not hold identity.user.delete, so without this route
// only an administrator could delete an account.
import { describe, expect, it } from "vitest";
import { auditOf, call, login, newKey, newTenant, newUser, PASSWORD } from "./helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

const deleteMe = (token: string, password: string) =>
  call("/api/v1/me", { method: "DELETE", token, body: { password } });

describe("deleting your own account", () => {
  it("a member deletes their account with their password: signed out everywhere, the email free again", async () => {
    const t = await newTenant("bye");
    const u = await newUser(t.slug);
    const other = await login(t.slug, u.email);
    const res = await deleteMe(u.access_token, PASSWORD);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    for (const token of [u.access_token, other.access_token]) {
      expect((await call("/api/v1/me", { token })).status).toBe(401);
    }
    const refresh = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: other.refresh_token },
    });
    expect(refresh.status).toBe(401);
    const again = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: PASSWORD } });
    expect(again.status).toBe(401);
    expect((await call(`/api/v1/users/${u.id}`, { token: t.adminKey })).status).toBe(404);
    const deleted = await auditOf(t.adminKey, "identity.user.deleted");
    expect(deleted.map((e) => [e.actor.kind, e.actor.id])).toEqual([["user", u.id]]);
    const reRegister = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: u.email, password: PASSWORD, name: "Ada" },
    });
    expect(reRegister.status).toBe(201);
  });

  it("a wrong password deletes nothing and is audited as a failed login", async () => {
    const t = await newTenant("bye");
    const u = await newUser(t.slug);
    const wrong = await deleteMe(u.access_token, "not my password at all");
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe("wrong_password");
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
    const failed = await auditOf(t.adminKey, "identity.login.failed");
    expect(failed.map((e) => [e.actor.kind, e.actor.id])).toEqual([["user", u.id]]);
  });

  it("refuses API keys, and the tenant's last owner", async () => {
    const t = await newTenant("bye");
    const key = await newKey(t.adminKey, ["identity.user.read"]);
    const byKey = await deleteMe(key.key, PASSWORD);
    expect(byKey.status).toBe(403);
    expect(byKey.body.code).toBe("forbidden");
    const owner = await newUser(t.slug);
    const grant = await call(`/api/v1/admin/users/${owner.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect(grant.status).toBe(204);
    const last = await deleteMe(owner.access_token, PASSWORD);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe("last_owner");
    expect((await call("/api/v1/me", { token: owner.access_token })).status).toBe(200);
  });

  it("an administrator (role admin, which grants *) deletes their own account too", async () => {
    // The policy lets an administrator act on a user only if they hold every permission that user
    // holds, and `*` only an owner holds: asked about their own account, an admin was refused
    // "you do not hold *", so the one member who could not leave was the admin.
    const t = await newTenant("bye-admin");
    const admin = await newUser(t.slug);
    const grant = await call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(grant.status).toBe(204);
    const res = await deleteMe(admin.access_token, PASSWORD);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect((await call(`/api/v1/users/${admin.id}`, { token: t.adminKey })).status).toBe(404);
  });

  it("is not done through the administrators' DELETE /users/{id} on one's own account, which asks no password", async () => {
    // An owner holds identity.user.delete and the policy lets a user act on themself: a stolen
    // access token alone deleted the account DELETE /me guards with the password (and a code).
    const t = await newTenant("bye-admin-route");
    const [first, second] = [await newUser(t.slug), await newUser(t.slug)];
    for (const u of [first, second]) {
      const grant = await call(`/api/v1/admin/users/${u.id}/roles/owner`, { method: "PUT", token: t.adminKey });
      expect(grant.status).toBe(204);
    }
    const own = await call(`/api/v1/users/${first.id}`, { method: "DELETE", token: first.access_token });
    expect([own.status, own.body.code]).toEqual([403, "forbidden"]);
    expect(own.body.detail).toContain("DELETE /api/v1/me");
    expect((await call("/api/v1/me", { token: first.access_token })).status).toBe(200);
    // Another owner still deletes it.
    const other = await call(`/api/v1/users/${first.id}`, { method: "DELETE", token: second.access_token });
    expect(other.status).toBe(204);
  });

  it("with two-factor on, needs a current code or a recovery code too, as turning two-factor off does", async () => {
    // A stolen access token and a phished password cannot turn the second factor off; nor may they erase the account.
    const { clock, call, tenant, user, enrol, auditOf } = platformAt("2031-02-01T00:00:10.000Z");
    const t = await tenant("bye-tfa");
    const ada = await user(t.slug, "ada@example.com");
    const { secret, recoveryCodes } = await enrol(ada.token);
    const del = (body: Record<string, unknown>) =>
      call("/api/v1/me", { method: "DELETE", token: ada.token, body: { password: PASSWORD, ...body } });
    const refused = [
      await del({}),
      await del({ code: codeAt(secret, clock) }), // the code that confirmed the enrolment: spent
      await del({ recovery_code: "aaaa-bbbb-cccc-dddd" }),
    ];
    expect(refused.map((r) => [r.status, r.body.code])).toEqual([
      [403, "wrong_two_factor_code"],
      [403, "wrong_two_factor_code"],
      [403, "wrong_two_factor_code"],
    ]);
    expect((await call("/api/v1/me", { token: ada.token })).status).toBe(200);
    const failed = await auditOf(t.adminKey, "identity.login.two_factor_failed", 2);
    // The two wrong codes are on record (a missing code is no guess), against the user.
    expect(failed.map((e) => e.target)).toEqual([`${t.id}/user/${ada.id}`, `${t.id}/user/${ada.id}`]);
    expect((await del({ code: "123456", recovery_code: recoveryCodes[0] })).status).toBe(400);
    const bob = await user(t.slug, "bob@example.com");
    const bobs = await enrol(bob.token);
    clock.advance(30_000);
    expect((await del({ code: codeAt(secret, clock) })).status).toBe(204);
    expect((await call("/api/v1/me", { token: ada.token })).status).toBe(401);
    const byRecovery = await call("/api/v1/me", {
      method: "DELETE",
      token: bob.token,
      body: { password: PASSWORD, recovery_code: bobs.recoveryCodes[0] },
    });
    expect(byRecovery.status).toBe(204);
  });

  it("a refused deletion (the last owner) spends no recovery code: the code still works once another owner exists", async () => {
    // Recovery codes are few and single-use: a 409 that changed nothing must not have used one up.
    const { call, tenant, user, enrol } = platformAt("2031-03-01T00:00:10.000Z");
    const t = await tenant("bye-owner");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    const makeOwner = (id: string) =>
      call(`/api/v1/admin/users/${id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect((await makeOwner(ada.id)).status).toBe(204);
    const del = () =>
      call("/api/v1/me", {
        method: "DELETE",
        token: ada.token,
        body: { password: PASSWORD, recovery_code: recoveryCodes[0] },
      });
    const last = await del();
    expect([last.status, last.body.code]).toEqual([409, "last_owner"]);
    const bob = await user(t.slug, "bob@example.com");
    expect((await makeOwner(bob.id)).status).toBe(204);
    const again = await del();
    expect(again.status, JSON.stringify(again.body)).toBe(204);
  });
});
