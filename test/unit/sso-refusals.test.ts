// What the SSO callback tells the person signing in when the directory refuses them: they may be
// anyone the tenant's provider vouches for, so never the tenant's role names.
import { describe, expect, it } from "vitest";
import { signInRefusal } from "../../src/modules/identity/sso/refusals";

describe("signInRefusal", () => {
  it("answers a mapping to roles that are gone with a generic 409 conflict naming no role", () => {
    const error = signInRefusal({ ok: false, error: "role_missing", roles: ["staff", "finance-admins"] });
    expect(error.code).toBe("conflict");
    expect(error.status).toBe(409);
    expect(error.detail).not.toMatch(/staff|finance-admins/);
    expect(error.detail).toMatch(/administrator/);
  });

  it("answers an account that must be linked explicitly with 409 sso_link_required, saying nothing of the account", () => {
    const error = signInRefusal({ ok: false, error: "link_required" });
    expect([error.code, error.status]).toEqual(["sso_link_required", 409]);
    expect(error.detail).not.toMatch(/owner|two-factor|role/i);
  });

  it("answers a provider replaced or deleted during the callback as its state's callback would: 400 sso_state_invalid", () => {
    const error = signInRefusal({ ok: false, error: "provider_replaced" });
    expect([error.code, error.status]).toEqual(["sso_state_invalid", 400]);
    expect(error.detail).toMatch(/sign in again/);
  });

  it("answers a domain allowed_domains dropped during the callback as the callback answers it: 403 sso_domain_not_allowed", () => {
    const error = signInRefusal({ ok: false, error: "domain_not_allowed" });
    expect([error.code, error.status]).toEqual(["sso_domain_not_allowed", 403]);
  });

  it("keeps one code per refusal", () => {
    const codes = (["signup_closed", "identity_conflict", "not_configured"] as const).map(
      (e) => signInRefusal({ ok: false, error: e }).code,
    );
    expect(codes).toEqual(["signup_closed", "sso_identity_conflict", "sso_not_configured"]);
  });
});
