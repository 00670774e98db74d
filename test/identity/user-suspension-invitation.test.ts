import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { PASSWORD } from "./helpers";
import { inviteAs } from "./inviter-helpers";
import { platformAt } from "./two-factor-helpers";

// Accepting an invitation into a suspended account with its password is refused before anything is
// stored: no two-factor challenge for a login that cannot happen (docs/identity.md#suspending-a-member).
describe("an invitation into a suspended account with two-factor on", () => {
  it("answers 403 account_suspended and stores no challenge", async () => {
    const p = platformAt("2032-04-01T00:00:10.000Z");
    const t = await p.tenant("suspend-invite-tfa");
    const ada = await p.user(t.slug, "ada@example.com");
    await p.enrol(ada.token);
    const sent = await inviteAs(p, t, t.adminKey, ada.email, ["viewer"]);
    const suspended = await p.call(`/api/v1/users/${ada.id}/suspend`, { token: t.adminKey, method: "POST" });
    expect(suspended.status).toBe(200);

    const res = await p.call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token: sent.token, password: PASSWORD, name: "Ada" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe("account_suspended");
    const challenges = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) =>
      state.storage.sql
        .exec("select 1 from one_time_tokens where kind = 'two_factor_login' and user_id = ?", ada.id)
        .toArray(),
    );
    expect(challenges).toEqual([]);
    expect((await p.call(`/api/v1/admin/invitations/${sent.id}`, { token: t.adminKey })).body.status).toBe("pending");
  });
});
