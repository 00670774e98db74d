import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, login, mailSettled, mailTo, newKey, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";

// There was no way to change an account's address: PATCH /users/{id} takes a name only.
const ask = (token: string, body: Record<string, unknown>) => call("/api/v1/me/email", { token, body });
const confirm = (slug: string, token: string) => call("/api/v1/auth/verify-email", { tenant: slug, body: { token } });
const mailbox = async (slug: string, to: string) =>
  (await call(`/api/v1/dev/mailbox?to=${encodeURIComponent(to)}`, { tenant: slug })).body.items as {
    subject: string;
    body: string;
  }[];

describe("changing one's email address (POST /api/v1/me/email, confirmed by the mailed token)", () => {
  it("takes effect only once the new address confirms; the old address is told; other sessions end", async () => {
    const t = await newTenant("email-change");
    const u = await newUser(t.slug, "old@example.com");
    const other = await login(t.slug, u.email);

    const asked = await ask(u.access_token, { new_email: " New@Example.com ", password: PASSWORD });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const mail = await mailTo(t.slug, "new@example.com", "Confirm your new email address");
    const token = tokenIn(mail);
    expect(token).toMatch(/^ple_/);
    const asking = await mailTo(t.slug, u.email, "A change of your email address");
    expect(tokenIn(asking)).toBe("");
    expect(asking.body).not.toContain("new@example.com");

    // Nothing changed yet: the old address signs in, the new one does not.
    expect((await call(`/api/v1/users/${u.id}`, { token: u.access_token })).body.email).toBe(u.email);
    const early = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "new@example.com", password: PASSWORD },
    });
    expect(early.status).toBe(401);

    expect((await confirm(t.slug, token)).status).toBe(204);
    const now = await call(`/api/v1/users/${u.id}`, { token: t.adminKey });
    expect({ email: now.body.email, verified: now.body.email_verified }).toEqual({
      email: "new@example.com",
      verified: true,
    });
    expect((await login(t.slug, "new@example.com")).access_token).toBeTruthy();
    const old = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: PASSWORD } });
    expect(old.status).toBe(401);
    const changed = await mailTo(t.slug, u.email, "Your email address");
    expect(tokenIn(changed)).toBe("");

    // Single use.
    expect((await confirm(t.slug, token)).status).toBe(400);
    // The asking session goes on; every other session of the account is signed out.
    const mine = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(mine.status).toBe(200);
    const theirs = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: other.refresh_token },
    });
    expect(theirs.status).toBe(401);

    const requested = await auditOf(t.adminKey, "identity.user.email_change_requested");
    expect(requested[0]?.actor).toEqual({ kind: "user", id: u.id });
    const done = await auditOf(t.adminKey, "identity.user.email_changed");
    expect(done[0]?.target).toContain(`user/${u.id}`);
    expect(JSON.stringify([...requested, ...done])).not.toContain("new@example.com");
  });

  it("asks the password, refuses API keys, and mails nothing for a wrong password", async () => {
    const t = await newTenant("email-change-proof");
    const u = await newUser(t.slug);
    const wrong = await ask(u.access_token, { new_email: "wrong@example.com", password: "not the password at all" });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 403, code: "wrong_password" });
    const missing = await ask(u.access_token, { new_email: "wrong@example.com" });
    expect(missing.status).toBe(400);
    const notEmail = await ask(u.access_token, { new_email: "nope", password: PASSWORD });
    expect(notEmail.status).toBe(400);
    const key = await newKey(t.adminKey, ["identity.user.update"]);
    expect((await ask(key.key, { new_email: "key@example.com", password: PASSWORD })).status).toBe(403);
    await mailSettled(t.slug);
    expect(await mailbox(t.slug, "wrong@example.com")).toEqual([]);
    expect(await mailbox(t.slug, "key@example.com")).toEqual([]);
  });

  it("answers a taken address as a free one, mails it nothing, and refuses a confirmation once it is taken", async () => {
    const t = await newTenant("email-change-taken");
    const u = await newUser(t.slug, "first@example.com");
    await newUser(t.slug, "taken@example.com");
    const taken = await ask(u.access_token, { new_email: "taken@example.com", password: PASSWORD });
    expect(taken.status).toBe(202);

    expect((await ask(u.access_token, { new_email: "later@example.com", password: PASSWORD })).status).toBe(202);
    const token = tokenIn(await mailTo(t.slug, "later@example.com", "Confirm"));
    // Someone registers the address before the confirmation.
    await newUser(t.slug, "later@example.com");
    const late = await confirm(t.slug, token);
    expect({ status: late.status, code: late.body.code }).toEqual({ status: 409, code: "conflict" });
    expect((await call(`/api/v1/users/${u.id}`, { token: u.access_token })).body.email).toBe("first@example.com");

    await mailSettled(t.slug);
    expect((await mailbox(t.slug, "taken@example.com")).filter((m) => m.subject.startsWith("Confirm"))).toEqual([]);
  });

  it("keeps only the newest token, which expires and which a password reset voids", async () => {
    const t = await newTenant("email-change-void");
    const u = await newUser(t.slug);
    await ask(u.access_token, { new_email: "one@example.com", password: PASSWORD });
    const first = tokenIn(await mailTo(t.slug, "one@example.com", "Confirm"));
    await ask(u.access_token, { new_email: "two@example.com", password: PASSWORD });
    const second = tokenIn(await mailTo(t.slug, "two@example.com", "Confirm"));
    expect((await confirm(t.slug, first)).status).toBe(400);

    // Expired: a day after it was asked.
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec(
        "update one_time_tokens set expires_at = '2000-01-01T00:00:00.000Z' where kind = 'email_change'",
      );
    });
    expect((await confirm(t.slug, second)).status).toBe(400);

    await ask(u.access_token, { new_email: "three@example.com", password: PASSWORD });
    const third = tokenIn(await mailTo(t.slug, "three@example.com", "Confirm"));
    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    const reset = tokenIn(await mailTo(t.slug, u.email, "Reset"));
    const set = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: reset, password: "an entirely new passphrase" },
    });
    expect(set.status).toBe(204);
    expect((await confirm(t.slug, third)).status).toBe(400);
    expect((await call(`/api/v1/users/${u.id}`, { token: t.adminKey })).body.email).toBe(u.email);
  });

  it("links into the tenant's app with mail_links.verify_email, whose page's call makes the change", async () => {
    const t = await newTenant("email-change-links");
    const links = {
      verify_email: "https://app.example.com/verify#token={token}",
      password_reset: "https://app.example.com/reset#token={token}",
    };
    const set = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { mail_links: links },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const u = await newUser(t.slug, "linked@example.com");
    expect((await ask(u.access_token, { new_email: "moved@example.com", password: PASSWORD })).status).toBe(202);
    const mail = await mailTo(t.slug, "moved@example.com", "Confirm");
    const token = /https:\/\/app\.example\.com\/verify#token=(ple_[A-Za-z0-9_-]+)/.exec(mail.body)?.[1];
    expect(token, mail.body).toBeDefined();
    expect(mail.body).not.toContain("POST /api/v1");
    const notice = await mailTo(t.slug, u.email, "A change");
    expect(notice.body).not.toContain("POST /api/v1");
    expect((await confirm(t.slug, String(token))).status).toBe(204);
    expect((await call(`/api/v1/users/${u.id}`, { token: t.adminKey })).body.email).toBe("moved@example.com");
  });
});
