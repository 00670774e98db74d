import { describe, expect, it } from "vitest";
import { auditSettled, PASSWORD } from "./helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

describe("an email change with two-factor on", () => {
  it("asks a code besides the password, spends it, and records a wrong one", async () => {
    const p = platformAt("2033-03-01T00:00:10.000Z");
    const t = await p.tenant("email-tfa");
    const u = await p.user(t.slug, "tfa@example.com");
    const { secret, recoveryCodes } = await p.enrol(u.token);
    const ask = (body: Record<string, unknown>) => p.call("/api/v1/me/email", { token: u.token, body });

    const none = await ask({ new_email: "next@example.com", password: PASSWORD });
    expect({ status: none.status, code: none.body.code }).toEqual({ status: 403, code: "wrong_two_factor_code" });
    const wrong = await ask({ new_email: "next@example.com", password: PASSWORD, code: "000000" });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 403, code: "wrong_two_factor_code" });

    p.clock.advance(30_000);
    const code = codeAt(secret, p.clock);
    expect((await ask({ new_email: "next@example.com", password: PASSWORD, code })).status).toBe(202);
    // A code is used once.
    const replay = await ask({ new_email: "next@example.com", password: PASSWORD, code });
    expect(replay.status).toBe(403);
    // A recovery code serves too.
    const recovery = recoveryCodes[0];
    expect((await ask({ new_email: "next@example.com", password: PASSWORD, recovery_code: recovery })).status).toBe(
      202,
    );

    const failed = await p.auditOf(t.adminKey, "identity.login.two_factor_failed");
    expect(failed.some((e) => e.detail?.stage === "email_change")).toBe(true);
    // Two, not a third a batch late: counted after a marker.
    await auditSettled(t.slug, t.adminKey, p.call);
    const asked = await p.auditOf(t.adminKey, "identity.user.email_change_requested", 2);
    expect(asked.length).toBe(2);
  });
});
