// A person's export says where their two-factor stands as GET /me/two-factor does (on, or an
// enrolment begun and not confirmed; recovery codes left) and when each spent recovery code
// was used: a sign-in they may not recognise. Never the secret nor a code (personal-data-export
// searches the export for those).
import { describe, expect, it } from "vitest";
import { platformAt } from "./two-factor-helpers";

describe("GET /api/v1/me/export: two-factor", () => {
  it("shows a pending enrolment, the codes left and when a code was spent", async () => {
    const { call, clock, tenant, user, enrol, login } = platformAt("2032-04-09T10:00:00.000Z");
    const t = await tenant("exp-tfa");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);
    clock.advance(60_000);
    const challenged = await login(t.slug, ada.email);
    expect(challenged.status, JSON.stringify(challenged.body)).toBe(200);
    const spent = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: challenged.body.challenge, recovery_code: recoveryCodes[0] },
    });
    expect(spent.status, JSON.stringify(spent.body)).toBe(200);

    const adas = await call("/api/v1/me/export", { token: ada.token });
    expect(adas.status, JSON.stringify(adas.body)).toBe(200);
    const mine = (adas.body.modules as { identity: { two_factor: unknown } }).identity.two_factor;
    expect(mine).toEqual({
      enabled: true,
      pending: false,
      enabled_at: "2032-04-09T10:00:00.000Z",
      recovery_codes_remaining: recoveryCodes.length - 1,
      recovery_codes_used_at: ["2032-04-09T10:01:00.000Z"],
    });

    const bob = await user(t.slug, "bob@example.com");
    const started = await call("/api/v1/me/two-factor", { token: bob.token, method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const bobs = await call("/api/v1/me/export", { token: bob.token });
    expect(bobs.status, JSON.stringify(bobs.body)).toBe(200);
    expect((bobs.body.modules as { identity: { two_factor: unknown } }).identity.two_factor).toEqual({
      enabled: false,
      pending: true,
      enabled_at: null,
      recovery_codes_remaining: 0,
      recovery_codes_used_at: [],
    });
  });
});
