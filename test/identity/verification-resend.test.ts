// A user whose verification mail is lost or expired is not locked out of a tenant that
// requires verified emails: they ask for a new mail, or reset their password (whose token
// came through the same mailbox). The request answers alike whoever asks.
import { describe, expect, it } from "vitest";
import { call, mailSettled, mailsTo, mailTo, newTenant, PASSWORD, register, tokenIn } from "./helpers";

/** A tenant that refuses unverified logins, and one unverified user in it. */
async function lockedOut() {
  const t = await newTenant();
  const email = `late-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await register(t.slug, email);
  const set = await call("/api/v1/admin/settings", {
    method: "PATCH",
    token: t.adminKey,
    body: { require_verified_email: true },
  });
  expect(set.status).toBe(200);
  const login = (password = PASSWORD) => call("/api/v1/auth/login", { tenant: t.slug, body: { email, password } });
  expect((await login()).status).toBe(403);
  return { t, email, login };
}

describe("a new verification mail", () => {
  it("mails a new token that verifies the user; only the newest token works", async () => {
    const { t, email, login } = await lockedOut();
    const first = await mailTo(t.slug, email, "Verify");
    const asked = await call("/api/v1/auth/verify-email/resend", { tenant: t.slug, body: { email } });
    expect(asked.status).toBe(202);
    const [second] = await mailsTo(t.slug, email, 2, "Verify");
    const newest = tokenIn(second ?? { body: "" });
    expect(newest).toMatch(/^plv_/);
    expect(newest).not.toBe(tokenIn(first));
    // The first mail's token was voided by the second.
    const stale = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: tokenIn(first) } });
    expect(stale.status).toBe(400);
    const verified = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: newest } });
    expect(verified.status).toBe(204);
    expect((await login()).status).toBe(200);
    // Verified now: asking again answers the same and mails nothing.
    expect((await call("/api/v1/auth/verify-email/resend", { tenant: t.slug, body: { email } })).status).toBe(202);
    await mailSettled(t.slug);
    expect(await mailsTo(t.slug, email, 2, "Verify")).toHaveLength(2);
  });

  it("answers 202 for an unknown email and mails nothing", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/auth/verify-email/resend", {
      tenant: t.slug,
      body: { email: "ghost@example.com" },
    });
    expect(res.status).toBe(202);
    await mailSettled(t.slug);
    const box = await call("/api/v1/dev/mailbox?to=ghost@example.com", { tenant: t.slug });
    expect(box.body.items).toEqual([]);
    const bad = await call("/api/v1/auth/verify-email/resend", { tenant: t.slug, body: { email: "not an email" } });
    expect(bad.status).toBe(400);
  });

  it("a completed password reset verifies the email, so the user can log in", async () => {
    const { t, email, login } = await lockedOut();
    expect((await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email } })).status).toBe(202);
    const reset = await mailTo(t.slug, email, "Reset");
    const password = "a new and longer passphrase";
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: tokenIn(reset), password },
    });
    expect(confirmed.status).toBe(204);
    expect((await login(password)).status).toBe(200);
  });
});
