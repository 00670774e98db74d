import { describe, expect, it } from "vitest";
import { mailTo, PASSWORD, tokenIn } from "./helpers";
import { platformAt } from "./two-factor-helpers";

// A two-factor challenge is what a correct password buys a user with two-factor on. A reset or a
// change of that password signs every other session out; a challenge the old password bought just
// before must not then start a new one (it did: 200 and a fresh pair after the reset).
describe("a password reset or change voids the user's pending two-factor challenges", () => {
  it("a challenge from before a reset is refused after it, and a login with the new password gets a new one", async () => {
    const { call, tenant, user, enrol, login } = platformAt("2032-03-01T00:00:10.000Z");
    const t = await tenant("pwc-reset");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    const before = await login(t.slug, ada.email);
    expect(before.body.two_factor_required).toBe(true);

    expect((await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: ada.email } })).status).toBe(
      202,
    );
    const mail = await mailTo(t.slug, ada.email, "Reset");
    const password = "an entirely new passphrase";
    const reset = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: tokenIn(mail), password },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(204);

    const stale = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: before.body.challenge, recovery_code: recoveryCodes[0] },
    });
    expect({ status: stale.status, code: stale.body.code }).toEqual({ status: 401, code: "unauthenticated" });

    // The refusal spent no recovery code; the new password's challenge takes it.
    const after = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: ada.email, password } });
    expect(after.body.two_factor_required).toBe(true);
    const done = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: after.body.challenge, recovery_code: recoveryCodes[0] },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
  });

  it("a challenge from before a change of password is refused after it", async () => {
    const { call, tenant, user, enrol, login } = platformAt("2032-03-02T00:00:10.000Z");
    const t = await tenant("pwc-change");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    const before = await login(t.slug, ada.email);
    expect(before.body.two_factor_required).toBe(true);

    const changed = await call("/api/v1/auth/change-password", {
      token: ada.token,
      body: { current_password: PASSWORD, new_password: "an entirely new passphrase" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);

    const stale = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: before.body.challenge, recovery_code: recoveryCodes[1] },
    });
    expect(stale.status).toBe(401);
    // The session that changed the password lives on, as change-password promises.
    expect((await call("/api/v1/me/two-factor", { token: ada.token })).body).toMatchObject({
      enabled: true,
      recovery_codes_remaining: 10,
    });
  });
});
