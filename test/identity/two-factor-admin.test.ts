import { describe, expect, it } from "vitest";
import { codeAt, platformAt } from "./two-factor-helpers";

type Platform = ReturnType<typeof platformAt>;

async function grant(p: Platform, adminKey: string, userId: string, role: string) {
  const res = await p.call(`/api/v1/admin/users/${userId}/roles/${role}`, { token: adminKey, method: "PUT" });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

async function setRequired(p: Platform, adminKey: string, on: boolean) {
  const res = await p.call("/api/v1/admin/settings", {
    token: adminKey,
    method: "PATCH",
    body: { require_two_factor_for_admins: on },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.require_two_factor_for_admins).toBe(on);
}

describe("require_two_factor_for_admins", () => {
  it("is off by default; when on, a user whose roles grant admin.* gets 403 two_factor_required until enrolled", async () => {
    const p = platformAt("2033-01-01T00:00:10.000Z");
    const t = await p.tenant("tfa-require");
    const settings = await p.call("/api/v1/admin/settings", { token: t.adminKey });
    expect(settings.body.require_two_factor_for_admins).toBe(false);

    const boss = await p.user(t.slug, "boss@example.com");
    const member = await p.user(t.slug, "member@example.com");
    await grant(p, t.adminKey, boss.id, "admin");
    await setRequired(p, t.adminKey, true);

    const refused = await p.login(t.slug, boss.email);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: "two_factor_required" });
    expect(String(refused.body.detail)).toContain("POST /api/v1/me/two-factor");
    // A member (no admin.* permission) logs in as before.
    expect((await p.login(t.slug, member.email)).body.access_token).toBeTruthy();
    // A wrong password still answers 401, not a hint that the account is an admin's.
    const bad = await p.call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: boss.email, password: "wrong wrong wrong" },
    });
    expect(bad.status).toBe(401);

    // The session the admin still holds can enrol; then login asks for the code.
    const { secret } = await p.enrol(boss.token);
    const challenge = await p.login(t.slug, boss.email);
    expect(challenge.body.two_factor_required).toBe(true);
    p.clock.advance(30_000);
    const done = await p.call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: challenge.body.challenge, code: codeAt(secret, p.clock) },
    });
    expect(done.status).toBe(200);

    // Turned off, an admin without two-factor logs in again.
    const other = await p.user(t.slug, "other@example.com");
    await grant(p, t.adminKey, other.id, "admin");
    expect((await p.login(t.slug, other.email)).status).toBe(403);
    await setRequired(p, t.adminKey, false);
    expect((await p.login(t.slug, other.email)).body.access_token).toBeTruthy();

    // Both refusals (the boss's, then the other admin's) reach the log; newest first.
    const audit = await p.auditOf(t.adminKey, "identity.login.two_factor_refused", 2);
    expect(audit.map((e) => e.target?.split("/").slice(1).join("/"))).toEqual([`user/${other.id}`, `user/${boss.id}`]);
  });

  it("validates the setting as a boolean", async () => {
    const p = platformAt("2033-01-02T00:00:10.000Z");
    const t = await p.tenant("tfa-validate");
    const res = await p.call("/api/v1/admin/settings", {
      token: t.adminKey,
      method: "PATCH",
      body: { require_two_factor_for_admins: "yes" },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.errors)).toContain("require_two_factor_for_admins");
  });
});

describe("an admin's reset of another user's two-factor (DELETE /api/v1/users/{id}/two-factor)", () => {
  it("needs identity.user.update, and only an owner resets an owner", async () => {
    const p = platformAt("2033-01-03T00:00:10.000Z");
    const t = await p.tenant("tfa-reset");
    const admin = await p.user(t.slug, "admin@example.com");
    const owner = await p.user(t.slug, "owner@example.com");
    const member = await p.user(t.slug, "member@example.com");
    await grant(p, t.adminKey, admin.id, "admin");
    await grant(p, t.adminKey, owner.id, "owner");
    await p.enrol(owner.token);
    await p.enrol(member.token);
    const reset = (token: string, id: string) => p.call(`/api/v1/users/${id}/two-factor`, { token, method: "DELETE" });

    // A member holds no identity.user.update.
    expect((await reset(member.token, owner.id)).status).toBe(403);
    // An admin resets a member, not an owner.
    const byAdmin = await reset(admin.token, owner.id);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.detail).toContain("only an owner");
    expect((await p.call("/api/v1/me/two-factor", { token: owner.token })).body.enabled).toBe(true);
    expect((await reset(admin.token, member.id)).status).toBe(204);
    expect((await p.call("/api/v1/me/two-factor", { token: member.token })).body.enabled).toBe(false);
    expect((await p.login(t.slug, member.email)).body.access_token).toBeTruthy();
    // Nothing left to reset, or no such user: 404.
    expect((await reset(admin.token, member.id)).status).toBe(404);
    expect((await reset(admin.token, "nobody")).status).toBe(404);
    // The owner key (holding *) resets an owner.
    expect((await reset(t.adminKey, owner.id)).status).toBe(204);

    const disabled = await p.auditOf(t.adminKey, "identity.two_factor.disabled", 2);
    expect(disabled.map((e) => e.actor.kind).sort()).toEqual(["api_key", "user"]);
    expect(disabled.find((e) => e.actor.kind === "user")?.actor.id).toBe(admin.id);
    const denied = await p.auditOf(t.adminKey, "authz.denied");
    expect(denied.some((e) => e.detail?.rule === "owner_only")).toBe(true);
  });
  it("refuses the caller's own: DELETE /me/two-factor asks a code, an access token alone must not turn it off", async () => {
    const p = platformAt("2033-01-03T00:00:20.000Z");
    const t = await p.tenant("tfa-reset-self");
    // An owner holds every permission, so the policy alone lets them reset anyone, themself included.
    const owner = await p.user(t.slug, "owner@example.com");
    await grant(p, t.adminKey, owner.id, "owner");
    const token = String((await p.login(t.slug, owner.email)).body.access_token);
    await p.enrol(token);

    const own = await p.call(`/api/v1/users/${owner.id}/two-factor`, { token, method: "DELETE" });
    expect([own.status, own.body.code]).toEqual([403, "forbidden"]);
    expect(String(own.body.detail)).toContain("DELETE /api/v1/me/two-factor");
    expect((await p.call("/api/v1/me/two-factor", { token })).body.enabled).toBe(true);
  });
});

describe("two-factor events", () => {
  it("reach the audit log without secrets or codes", async () => {
    const p = platformAt("2033-01-04T00:00:10.000Z");
    const t = await p.tenant("tfa-audit");
    const ada = await p.user(t.slug, "ada@example.com");
    const { secret, recoveryCodes } = await p.enrol(ada.token);
    const challenge = (await p.login(t.slug, ada.email)).body.challenge;
    const failed = await p.call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, code: "000000" } });
    expect(failed.status).toBe(401);
    await p.call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge, recovery_code: recoveryCodes[0] } });

    for (const action of [
      "identity.two_factor.enrolment_started",
      "identity.two_factor.enabled",
      "identity.login.two_factor_challenged",
      "identity.login.two_factor_failed",
      "identity.two_factor.recovery_code_used",
    ]) {
      const entries = await p.auditOf(t.adminKey, action);
      expect(entries.length, action).toBeGreaterThan(0);
      expect(entries[0]?.target).toContain(`user/${ada.id}`);
    }
    const exported = await p.fetch("/api/v1/admin/audit/export", {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    const text = await exported.text();
    expect(text).toContain("identity.two_factor.enabled");
    for (const s of [secret, ...recoveryCodes, String(challenge)]) expect(text).not.toContain(s);
  });
});
