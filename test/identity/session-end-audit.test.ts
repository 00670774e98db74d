import { describe, expect, it } from "vitest";
import { mailTo, tokenIn } from "./helpers";
import { platformAt } from "./two-factor-helpers";

// An administrator reading the audit log after a compromise must tell a stolen refresh token
// (reuse_detected) from a logout or a reset: the event said why, its audit entry said nothing.
describe("identity.token.family_revoked in the audit log", () => {
  it("names the session and why it ended: logout, password reset", async () => {
    const { call, tenant, user, login, auditOf } = platformAt("2032-03-05T00:00:10.000Z");
    const t = await tenant("famaudit");
    const ada = await user(t.slug, "ada@example.com");
    const first = await login(t.slug, ada.email);
    const second = await login(t.slug, ada.email);
    const sessions = await call("/api/v1/me/sessions", { token: String(first.body.access_token) });
    const ids = (sessions.body.items as { id: string }[]).map((s) => s.id);
    expect(ids).toHaveLength(3);

    const out = await call("/api/v1/auth/logout", {
      tenant: t.slug,
      body: { refresh_token: first.body.refresh_token },
    });
    expect(out.status).toBe(204);
    const [loggedOut] = await auditOf(t.adminKey, "identity.token.family_revoked");
    expect(loggedOut?.detail).toEqual({ session_id: expect.any(String), reason: "logout" });
    // The refresh token proved the user, as it does for identity.token.refreshed (docs/audit.md).
    expect(loggedOut?.actor).toEqual({ kind: "user", id: ada.id });
    const loggedOutId = String(loggedOut?.detail?.session_id);
    expect(ids).toContain(loggedOutId);

    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: ada.email } });
    const mail = await mailTo(t.slug, ada.email, "Reset");
    const reset = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: tokenIn(mail), password: "an entirely new passphrase" },
    });
    expect(reset.status).toBe(204);
    const entries = await auditOf(t.adminKey, "identity.token.family_revoked", 3);
    const byReset = entries.filter((e) => e.detail?.reason === "password_reset");
    expect(byReset.map((e) => e.detail?.session_id).sort()).toEqual(ids.filter((id) => id !== loggedOutId).sort());
    // Ended by the reset the mailed token proved the user made: named as the reset entry names them.
    for (const entry of byReset) expect(entry.actor).toEqual({ kind: "user", id: ada.id });
    expect(second.status).toBe(200);
  });
});
