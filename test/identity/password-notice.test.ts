import { describe, expect, it } from "vitest";
import { call, mailSettled, mailsTo, mailTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";

// A password changed behind its owner's back (a mailbox or a session in someone else's hands) was
// silent: the owner found out at their next login, if then. Each change now tells the address.
describe("a changed password is told to the account's address", () => {
  it("after a reset, with no token in it", async () => {
    const t = await newTenant("pwnotice");
    const u = await newUser(t.slug);
    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    const reset = await mailTo(t.slug, u.email, "Reset");
    const done = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: tokenIn(reset), password: "an entirely new passphrase" },
    });
    expect(done.status).toBe(204);
    const notice = await mailTo(t.slug, u.email, "Your password");
    expect(notice.subject).toBe(`Your password for Tenant ${t.slug} was changed`);
    expect(notice.body).toContain("reset");
    expect(notice.body).toContain("POST /api/v1/auth/password-reset");
    expect(tokenIn(notice)).toBe("");
  });

  it("after a change, and never for a refused one", async () => {
    const t = await newTenant("pwnotice");
    const u = await newUser(t.slug);
    const wrong = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: "not the password at all", new_password: "an entirely new passphrase" },
    });
    expect(wrong.status).toBe(403);
    const bad = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: `plp_${"A".repeat(43)}`, password: "an entirely new passphrase" },
    });
    expect(bad.status).toBe(400);
    await mailSettled(t.slug);
    expect(
      (await call(`/api/v1/dev/mailbox?to=${encodeURIComponent(u.email)}`, { tenant: t.slug })).body.items,
    ).toEqual([expect.objectContaining({ subject: expect.stringContaining("Verify") })]);

    const changed = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: PASSWORD, new_password: "an entirely new passphrase" },
    });
    expect(changed.status).toBe(204);
    const [notice] = await mailsTo(t.slug, u.email, 1, "Your password");
    expect(notice?.body).toContain("signed-in session");
  });
});
