import { describe, expect, it } from "vitest";
import { mailsTo, tokenIn } from "./helpers";
import { platformAt } from "./two-factor-helpers";

// Two-factor turned off (by a session someone else holds with a recovery code, or by an administrator)
// was silent: its owner found out never, or when the next login asked no code.
describe("two-factor turned off is told to the account's address", () => {
  it("by the user, and by an administrator's reset", async () => {
    const { call, tenant, user, enrol } = platformAt("2032-03-09T00:00:10.000Z");
    const t = await tenant("tfa-notice");
    const ada = await user(t.slug, "ada@example.com");
    const first = await enrol(ada.token);
    const off = await call("/api/v1/me/two-factor", {
      method: "DELETE",
      token: ada.token,
      body: { recovery_code: first.recoveryCodes[0] },
    });
    expect(off.status).toBe(204);
    const [byUser] = await mailsTo(t.slug, ada.email, 1, "Two-factor");
    expect(byUser?.subject).toBe(`Two-factor sign-in was turned off for ${t.name}`);
    expect(byUser?.body).toContain("from a signed-in session");
    expect(tokenIn(byUser ?? { body: "" })).toBe("");

    await enrol(ada.token);
    const reset = await call(`/api/v1/users/${ada.id}/two-factor`, { method: "DELETE", token: t.adminKey });
    expect(reset.status).toBe(204);
    // Two such mails now, in no particular order: one says who turned it off this time.
    const both = await mailsTo(t.slug, ada.email, 2, "Two-factor");
    expect(both.filter((m) => m.body.includes("by an administrator"))).toHaveLength(1);
  });
});
