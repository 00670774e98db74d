import { describe, expect, it } from "vitest";
import { platformAt } from "./two-factor-helpers";

// docs/identity.md lists what each two-factor event says (a failure's stage, method and reason, the
// recovery codes left, why it was turned off) as what the audit log shows; its entries showed none
// of it, so an administrator could not tell guessing from a replay, or see a user's codes run out.
describe("two-factor entries of the audit log carry their facts", () => {
  it("a failed code, a recovery code spent and an administrator's reset", async () => {
    const { call, tenant, user, enrol, login, auditOf } = platformAt("2032-03-07T00:00:10.000Z");
    const t = await tenant("tfa-audit");
    const ada = await user(t.slug, "ada@example.com");
    const { recoveryCodes } = await enrol(ada.token);

    const first = await login(t.slug, ada.email);
    const wrong = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: first.body.challenge, code: "000000" },
    });
    expect(wrong.status).toBe(401);
    const [failed] = await auditOf(t.adminKey, "identity.login.two_factor_failed");
    expect(failed?.detail).toEqual({ stage: "login", method: "totp", reason: "wrong_code" });

    const done = await call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: first.body.challenge, recovery_code: recoveryCodes[0] },
    });
    expect(done.status).toBe(200);
    const [used] = await auditOf(t.adminKey, "identity.two_factor.recovery_code_used");
    expect(used?.detail).toEqual({ remaining: 9 });

    const reset = await call(`/api/v1/users/${ada.id}/two-factor`, { method: "DELETE", token: t.adminKey });
    expect(reset.status).toBe(204);
    const [disabled] = await auditOf(t.adminKey, "identity.two_factor.disabled");
    expect(disabled?.detail).toEqual({ reason: "admin_reset" });
  });
});
