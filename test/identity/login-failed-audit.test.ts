import { describe, expect, it } from "vitest";
import { auditOf, call, newTenant, newUser } from "./helpers";

// A failed login's audit entry says why (docs/audit.md), as the event does: never what was typed.
describe("identity.login.failed in the audit log", () => {
  it("carries the reason: a wrong password, an unknown email, a suspended account", async () => {
    const t = await newTenant("login-failed-audit");
    const u = await newUser(t.slug);
    const typed = "not the password at all";
    expect(
      (await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: typed } })).status,
    ).toBe(401);
    await call("/api/v1/auth/login", { tenant: t.slug, body: { email: "nobody@example.com", password: typed } });
    const suspended = await call(`/api/v1/users/${u.id}/suspend`, { token: t.adminKey, method: "POST" });
    expect(suspended.status).toBe(200);
    const refused = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: u.email, password: "correct horse battery staple" },
    });
    expect(refused.body.code).toBe("account_suspended");

    const entries = await auditOf(t.adminKey, "identity.login.failed", 3);
    expect(entries.map((e) => e.detail)).toEqual([
      { reason: "suspended" },
      { reason: "unknown_email" },
      { reason: "bad_password" },
    ]);
    // Neither what was typed nor who.
    const text = JSON.stringify(entries);
    for (const secret of [typed, "correct horse battery staple", u.email, "nobody@example.com"])
      expect(text).not.toContain(secret);
  });
});
