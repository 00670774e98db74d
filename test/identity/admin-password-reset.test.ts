import { describe, expect, it } from "vitest";
import { auditOf, call, login, mailSettled, mailsTo, mailTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";
import { platformAt } from "./two-factor-helpers";

// An administrator mails a member the self-service reset's token (docs/identity.md#resetting-a-members-password).
const resetOf = (token: string, id: string, body?: { sign_out?: boolean }) =>
  call(`/api/v1/users/${id}/password-reset`, { token, method: "POST", ...(body ? { body } : {}) });

const NEW_PASSWORD = "an entirely new passphrase";

describe("POST /api/v1/users/{id}/password-reset", () => {
  it("mails the member a reset token that works once at the public confirmation; the answer holds none", async () => {
    const t = await newTenant("admin-reset");
    const member = await newUser(t.slug);
    const res = await resetOf(t.adminKey, member.id);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({});

    const mail = await mailTo(t.slug, member.email, "Reset");
    expect(mail.body).toContain("An administrator of");
    const token = tokenIn(mail);
    expect(token).toMatch(/^plp_/);

    // Without sign_out the member's sessions live on until they set the new password.
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: member.refresh_token },
    });
    expect(refreshed.status).toBe(200);

    const confirm = () =>
      call("/api/v1/auth/password-reset/confirm", { tenant: t.slug, body: { token, password: NEW_PASSWORD } });
    expect((await confirm()).status).toBe(204);
    expect((await confirm()).status).toBe(400);
    expect((await login(t.slug, member.email, NEW_PASSWORD)).access_token).toBeTruthy();

    // Audited as the administrator's, about the member.
    const me = await call("/api/v1/me", { token: t.adminKey });
    const keyId = (me.body.key as { id: string }).id;
    const [entry] = await auditOf(t.adminKey, "identity.password.reset_requested");
    expect(entry?.actor).toEqual({ kind: "api_key", id: keyId });
    expect(entry?.target).toBe(`${t.id}/user/${member.id}`);
    expect(entry?.detail).toEqual({ by: "admin", sign_out: false, password_voided: false });
  });

  it("with sign_out ends every session of the member at once, their refresh tokens and access tokens", async () => {
    const t = await newTenant("admin-reset-out");
    const member = await newUser(t.slug);
    const second = await login(t.slug, member.email);

    const res = await resetOf(t.adminKey, member.id, { sign_out: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    for (const refresh_token of [member.refresh_token, second.refresh_token]) {
      const refreshed = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token } });
      expect(refreshed.status).toBe(401);
    }
    expect((await call("/api/v1/me", { token: member.access_token })).status).toBe(401);
    const mail = await mailTo(t.slug, member.email, "Reset");
    expect(mail.body).toContain("signed out already");

    const revoked = await auditOf(t.adminKey, "identity.token.family_revoked", 2);
    expect(revoked.map((e) => e.detail?.reason)).toEqual(["admin_password_reset", "admin_password_reset"]);
    const [requested] = await auditOf(t.adminKey, "identity.password.reset_requested");
    expect(requested?.detail).toEqual({ by: "admin", sign_out: true, password_voided: true });
    // Nor does the old password start a new one (admin-password-reset-void.test.ts).
    const again = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: member.email, password: PASSWORD },
    });
    expect(again.status).toBe(401);
  });

  it("with sign_out voids a two-factor challenge the current password earned", async () => {
    const { call: at, tenant, user, enrol, login: loginAt } = platformAt("2032-04-01T00:00:10.000Z");
    const t = await tenant("admin-reset-2fa");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    const before = await loginAt(t.slug, ada.email);
    expect(before.body.two_factor_required).toBe(true);

    const res = await at(`/api/v1/users/${ada.id}/password-reset`, { token: t.adminKey, body: { sign_out: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const stale = await at("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: before.body.challenge, recovery_code: recoveryCodes[0] },
    });
    expect({ status: stale.status, code: stale.body.code }).toEqual({ status: 401, code: "unauthenticated" });
  });

  it("with sign_out voids an email change under way, which would otherwise void the reset and take the account", async () => {
    const t = await newTenant("admin-reset-email");
    const member = await newUser(t.slug);
    // Someone holding the member's session moves the account's mail to an address of theirs.
    const asked = await call("/api/v1/me/email", {
      token: member.access_token,
      body: { new_email: "thief@example.com", password: PASSWORD },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const change = tokenIn(await mailTo(t.slug, "thief@example.com", "Confirm"));

    expect((await resetOf(t.adminKey, member.id, { sign_out: true })).status).toBe(202);
    const confirmed = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: change } });
    expect(confirmed.status).toBe(400);
    expect((await call(`/api/v1/users/${member.id}`, { token: t.adminKey })).body.email).toBe(member.email);
    const reset = tokenIn(await mailTo(t.slug, member.email, "Reset"));
    const done = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: reset, password: NEW_PASSWORD },
    });
    expect(done.status).toBe(204);
  });

  it("refuses a suspended member with 409 and mails nothing", async () => {
    const t = await newTenant("admin-reset-suspended");
    const member = await newUser(t.slug);
    const suspended = await call(`/api/v1/users/${member.id}/suspend`, { token: t.adminKey, method: "POST" });
    expect(suspended.status).toBe(200);
    const res = await resetOf(t.adminKey, member.id, { sign_out: true });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.code).toBe("conflict");
    expect(String(res.body.detail)).toContain("suspended");
    await mailSettled(t.slug);
    const resets = (await mailsTo(t.slug, member.email)).filter((m) => m.subject.startsWith("Reset"));
    expect(resets).toEqual([]);
  });

  it("answers 404 to another tenant's administrator, and to an unknown id", async () => {
    const a = await newTenant("admin-reset-a");
    const b = await newTenant("admin-reset-b");
    const member = await newUser(a.slug);
    const res = await resetOf(b.adminKey, member.id, { sign_out: true });
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect((await resetOf(a.adminKey, "no-such-user")).status).toBe(404);
    // A's member kept their session and got no mail.
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: a.slug,
      body: { refresh_token: member.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    await mailSettled(a.slug);
    expect((await mailsTo(a.slug, member.email)).filter((m) => m.subject.startsWith("Reset"))).toEqual([]);
  });

  it("spends the member's mail budget apart from their own resets, and a refusal spends nothing", async () => {
    // The mail policy as deployed (3 at once, 5 an hour), on a clock that does not move.
    const { call: at, tenant, user } = platformAt("2032-04-02T00:00:10.000Z", { mail: { mode: "sync" } });
    const t = await tenant("admin-reset-limit");
    const member = await user(t.slug, "ada@example.com");
    const ask = (id: string) => at(`/api/v1/users/${id}/password-reset`, { token: t.adminKey, method: "POST" });
    for (let i = 0; i < 3; i++) expect((await ask(member.id)).status).toBe(202);
    const over = await ask(member.id);
    expect(over.status).toBe(429);
    expect(String(over.body.detail)).toContain("(mail)");
    expect(over.headers.get("retry-after")).toBeTruthy();
    // The member's own request has a budget of its own.
    const own = await at("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: member.email } });
    expect(own.status).toBe(202);
    // Refusals give back what they spent: four refused asks leave the whole burst.
    const other = await user(t.slug, "bea@example.com");
    await at(`/api/v1/users/${other.id}/suspend`, { token: t.adminKey, method: "POST" });
    for (let i = 0; i < 4; i++) expect((await ask(other.id)).status).toBe(409);
    await at(`/api/v1/users/${other.id}/reactivate`, { token: t.adminKey, method: "POST" });
    for (let i = 0; i < 3; i++) expect((await ask(other.id)).status).toBe(202);
  });
});
