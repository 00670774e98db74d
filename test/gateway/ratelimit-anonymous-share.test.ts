// Anonymous requests that name a tenant (its subdomain, X-Tenant) draw from the tenant's own
// anonymous budget (`tenant_anonymous`), not from the `tenant` budget its users and keys share:
// a crowd of addresses, each well within its own `anonymous` allowance, must not answer the
// tenant's signed-in users and keys 429.
import { describe, expect, it } from "vitest";
import { gateway, parseList } from "./helpers";

const sync = { mode: "sync", on_failure: "open" } as const;

describe("anonymous requests and the tenant's shared budget", () => {
  for (const mode of ["sync", "async"] as const) {
    it(`an anonymous crowd spends the tenant's anonymous share, never its users' and keys' budget (${mode})`, async () => {
      const { call, tenant } = gateway({
        anonymous: { limit: 600, period_s: 60, burst: 60, ...sync, mode },
        // A plan's limit stands in for `limit`; `max_limit` caps it, so nothing refills mid-test.
        tenant: { period_s: 3600, burst: 5, max_limit: 5, ...sync, mode },
        tenant_anonymous: { period_s: 3600, burst: 4, max_limit: 4, ...sync, mode },
      });
      const victim = await tenant("crowd");
      const statuses: number[] = [];
      const details: string[] = [];
      // Ten addresses, three requests each: every one far inside its own `anonymous` allowance.
      for (let ip = 1; ip <= 10; ip++) {
        for (let i = 0; i < 3; i++) {
          const res = await call("/api/v1/system/info", {
            tenant: victim.slug,
            headers: { "cf-connecting-ip": `198.51.100.${ip}` },
          });
          statuses.push(res.status);
          if (res.status === 429) details.push(String(res.body.detail));
          if (ip === 1 && i === 0) {
            // The headers name the policy the request drew from.
            const policies = Object.keys(parseList(res.headers.get("ratelimit-policy")));
            expect(policies).toEqual(["anonymous", "tenant_anonymous"]);
          }
        }
      }
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
      expect(details.every((d) => d.includes("(tenant_anonymous)"))).toBe(true);
      // The tenant's own key still has all of its budget (a burst of five).
      const own: number[] = [];
      for (let i = 0; i < 5; i++) own.push((await call("/api/v1/me", { token: victim.adminKey })).status);
      expect(own).toEqual([200, 200, 200, 200, 200]);
      const me = await call("/api/v1/me", { token: victim.adminKey });
      expect(Object.keys(parseList(me.headers.get("ratelimit-policy")))).not.toContain("tenant_anonymous");
    });
  }

  it("lets a tenant set its anonymous share, within its plan's and above the floor a login page needs", async () => {
    const { call, tenant } = gateway({ tenant_anonymous: {} });
    const t = await tenant("anon-share");
    const patch = (limit: number, period_s = 60) =>
      call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body: { rate_limits: { tenant_anonymous: { limit, period_s } } },
      });
    // Free's share is 6 000 a minute, a third of its 18 000.
    const raised = await patch(6001);
    expect(raised.status, JSON.stringify(raised.body)).toBe(400);
    expect(raised.body.errors).toEqual([
      { path: "body.rate_limits.tenant_anonymous.limit", message: "at most 6000 per 60 s" },
    ]);
    expect((await patch(59)).status).toBe(400);
    const lowered = await patch(120);
    expect(lowered.status, JSON.stringify(lowered.body)).toBe(200);
    const info = await call("/api/v1/system/info", { tenant: t.slug });
    expect(info.status).toBe(200);
    expect(parseList(info.headers.get("ratelimit-policy")).tenant_anonymous).toEqual({ q: 120, w: 60 });
  });
});
