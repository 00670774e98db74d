import { describe, expect, it } from "vitest";
import { auditOf, call, login, mailTo, newTenant, newUser, PASSWORD, register, tokenIn } from "./helpers";

// These four were recorded with actor `anonymous`, though each caller proved to be the user by a
// secret only the user was given: "anonymous reset the password of X" read like an attack.
describe("audit actor of actions proven by a token the user was given", () => {
  it("records the user as actor of a verification, a refresh, a password reset and an email change", async () => {
    const t = await newTenant("proven-actor");
    const user = { kind: "user", id: "" };

    // Verification by the mailed token.
    user.id = (await register(t.slug, "v@example.com")).id as string;
    const verify = tokenIn(await mailTo(t.slug, "v@example.com", "Verify your email address"));
    const verified = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: verify } });
    expect(verified.status).toBe(204);
    expect((await auditOf(t.adminKey, "identity.user.email_verified"))[0]?.actor).toEqual(user);

    // A refresh with the user's refresh token.
    const pair = await login(t.slug, "v@example.com");
    const refreshed = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: pair.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect((await auditOf(t.adminKey, "identity.token.refreshed"))[0]?.actor).toEqual(user);

    // A reset of an unverified account: the reset marks its address verified, by the same user.
    const other = await register(t.slug, "r@example.com");
    const asked = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: "r@example.com" } });
    expect(asked.status).toBe(202);
    const reset = tokenIn(await mailTo(t.slug, "r@example.com", "Reset your password"));
    const done = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: reset, password: `${PASSWORD} again` },
    });
    expect(done.status).toBe(204);
    const resetBy = { kind: "user", id: other.id as string };
    expect((await auditOf(t.adminKey, "identity.password.reset"))[0]?.actor).toEqual(resetBy);
    const verifiedBy = (await auditOf(t.adminKey, "identity.user.email_verified", 2)).map((e) => e.actor);
    expect(verifiedBy).toEqual([resetBy, user]);
    // Other entries keep what they recorded: the request for a reset was made by no one known.
    expect((await auditOf(t.adminKey, "identity.password.reset_requested"))[0]?.actor.kind).toBe("anonymous");

    // An email change confirmed by the token mailed to the new address.
    const u = await newUser(t.slug, "old@example.com");
    const change = await call("/api/v1/me/email", {
      token: u.access_token,
      body: { new_email: "new@example.com", password: PASSWORD },
    });
    expect(change.status).toBe(202);
    const token = tokenIn(await mailTo(t.slug, "new@example.com", "Confirm your new email address"));
    const confirmed = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } });
    expect(confirmed.status).toBe(204);
    expect((await auditOf(t.adminKey, "identity.user.email_changed"))[0]?.actor).toEqual({ kind: "user", id: u.id });
  });
});
