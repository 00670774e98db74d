// An administrator's reset with sign_out (a suspected compromise) voids the member's password in the
// same transaction as the sign-out: whoever stole it cannot sign straight back in before the member
// completes the reset (docs/identity.md#resetting-a-members-password).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { auditOf, call, login, mailsTo, mailTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";
import { CLIENT_ID, ISSUER, ssoKit } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const NEW_PASSWORD = "an entirely new passphrase";

const resetOf = (token: string, id: string, body?: { sign_out?: boolean }) =>
  call(`/api/v1/users/${id}/password-reset`, { token, method: "POST", ...(body ? { body } : {}) });
const loginWith = (slug: string, email: string, password: string) =>
  call("/api/v1/auth/login", { tenant: slug, body: { email, password } });
const confirm = (slug: string, token: string, password: string) =>
  call("/api/v1/auth/password-reset/confirm", { tenant: slug, body: { token, password } });

describe("an administrator's reset with sign_out voids the current password", () => {
  it("refuses the old password as a wrong one until the member sets a new one with the mailed token", async () => {
    const t = await newTenant("admin-reset-void");
    const member = await newUser(t.slug);
    expect((await resetOf(t.adminKey, member.id, { sign_out: true })).status).toBe(202);

    const wrong = await loginWith(t.slug, member.email, "not the password at all");
    const old = await loginWith(t.slug, member.email, PASSWORD);
    expect(old.status).toBe(401);
    // The same answer as a wrong password: the password's holder learns nothing of the reset.
    expect(old.body).toEqual({ ...wrong.body, instance: old.body.instance, request_id: old.body.request_id });

    const [entry] = await auditOf(t.adminKey, "identity.password.reset_requested");
    expect(entry?.detail).toEqual({ by: "admin", sign_out: true, password_voided: true });

    const mail = await mailTo(t.slug, member.email, "Reset");
    expect(mail.body).toContain("Your old password no longer works");
    expect((await confirm(t.slug, tokenIn(mail), NEW_PASSWORD)).status).toBe(204);
    expect((await login(t.slug, member.email, NEW_PASSWORD)).access_token).toBeTruthy();
    expect((await loginWith(t.slug, member.email, PASSWORD)).status).toBe(401);
  });

  it("leaves the self-service reset working: a new mail's token sets the password", async () => {
    const t = await newTenant("admin-reset-void-self");
    const member = await newUser(t.slug);
    expect((await resetOf(t.adminKey, member.id, { sign_out: true })).status).toBe(202);
    await mailTo(t.slug, member.email, "Reset");
    const asked = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: member.email } });
    expect(asked.status).toBe(202);
    // The mails arrive in no set order: the member's own is the one an administrator did not ask.
    const own = (await mailsTo(t.slug, member.email, 2, "Reset")).find((m) => !m.body.includes("An administrator"));
    const token = tokenIn(own ?? { body: "" });
    expect((await confirm(t.slug, token, NEW_PASSWORD)).status).toBe(204);
    expect((await login(t.slug, member.email, NEW_PASSWORD)).access_token).toBeTruthy();
  });

  it("without sign_out the old password keeps working until the reset is completed", async () => {
    const t = await newTenant("admin-reset-keep");
    const member = await newUser(t.slug);
    expect((await resetOf(t.adminKey, member.id)).status).toBe(202);
    expect((await login(t.slug, member.email, PASSWORD)).access_token).toBeTruthy();
    const [entry] = await auditOf(t.adminKey, "identity.password.reset_requested");
    expect(entry?.detail).toEqual({ by: "admin", sign_out: false, password_voided: false });
  });
});

describe("a login verifying the password while an administrator's reset voids it", () => {
  // The Worker verifies the hash loginLookup gave it (an Argon2 run, off the directory's thread):
  // a reset committed meanwhile must not be undone by the session or the challenge it then asks for.
  it("starts no session and issues no challenge for the hash the reset voided, nor writes its rehash back", async () => {
    const t = await newTenant("admin-reset-race");
    const member = await newUser(t.slug);
    const dir = directory(env, t.id);
    const looked = await dir.loginLookup(member.email);
    expect(looked).not.toBeNull();
    const verifiedHash = looked?.passwordHash ?? "";
    expect((await resetOf(t.adminKey, member.id, { sign_out: true })).status).toBe(202);

    const ctx = { now: new Date().toISOString(), actor: { kind: "user" as const, id: member.id }, requestId: null };
    const started = await dir.loginSucceeded({
      ctx,
      userId: member.id,
      familyId: `f-late-${crypto.randomUUID()}`,
      tokenHash: "a".repeat(64),
      rehash: verifiedHash,
      verifiedHash,
      userAgent: null,
    });
    expect(started).toEqual({ ok: false, error: "password_changed" });
    const second = await dir.loginSecondFactor({
      ctx,
      userId: member.id,
      challengeHash: "b".repeat(64),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      adminPermissions: [],
      rehash: verifiedHash,
      verifiedHash,
    });
    expect(second).toBe("password_changed");
    const state = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, st) =>
      st.storage.sql
        .exec<{ h: string; n: number }>(
          "select password_hash as h, (select count(*) from token_families where id like 'f-late-%') as n from users where id = ?",
          member.id,
        )
        .one(),
    );
    expect(state).toEqual({ h: "!reset", n: 0 });
    expect((await loginWith(t.slug, member.email, PASSWORD)).status).toBe(401);
  });
});

describe("an administrator's reset with sign_out and single sign-on", () => {
  const p = platformAt("2032-05-01T00:00:10.000Z");
  const { tenantWithSso, signInWithToken } = ssoKit(p, "admin-reset-sso");

  it("leaves a linked account's provider sign-in working, and the voided password cannot change the password", async () => {
    const t = await tenantWithSso();
    const ada = await p.user(t.slug, "ada@example.com");
    const linked = await signInWithToken(t.id, "ada-at-idp", ada.email);
    expect(linked.result.ok).toBe(true);

    const res = await p.call(`/api/v1/users/${ada.id}/password-reset`, { token: t.adminKey, body: { sign_out: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await p.login(t.slug, ada.email)).status).toBe(401);

    // The provider's proof is not the password: the linked identity signs in after the reset.
    const again = await signInWithToken(t.id, "ada-at-idp", ada.email);
    expect(again.result.ok && again.result.value.principal.id).toBe(ada.id);
    const pair = await p.call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: again.refreshToken } });
    expect(pair.status, JSON.stringify(pair.body)).toBe(200);
    // That session cannot use the voided password to set one of its own choosing.
    const changed = await p.call("/api/v1/auth/change-password", {
      token: String(pair.body.access_token),
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect({ status: changed.status, code: changed.body.code }).toEqual({ status: 403, code: "wrong_password" });
  });

  it("leaves an account made by single sign-on (no password) as it was", async () => {
    const t = await tenantWithSso();
    const jit = await p.call("/api/v1/admin/sso", {
      method: "PUT",
      token: t.adminKey,
      body: { issuer: ISSUER, client_id: CLIENT_ID, allowed_domains: ["example.com"], jit: true },
    });
    expect(jit.status, JSON.stringify(jit.body)).toBe(200);
    const made = await signInWithToken(t.id, "sam-at-idp", "sam@example.com");
    expect(made.result.ok).toBe(true);
    const id = made.result.ok ? made.result.value.principal.id : "";
    const hashOf = () =>
      runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
        state.storage.sql.exec<{ h: string }>("select password_hash as h from users where id = ?", id).one(),
      );
    const before = await hashOf();

    const res = await p.call(`/api/v1/users/${id}/password-reset`, { token: t.adminKey, body: { sign_out: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(await hashOf()).toEqual(before);
    const [entry] = await p.auditOf(t.adminKey, "identity.password.reset_requested");
    expect(entry?.detail).toEqual({ by: "admin", sign_out: true, password_voided: false });
  });
});
