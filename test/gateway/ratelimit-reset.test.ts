// A tenant that rate-limits itself (its own `tenant` limit set low and spent stops every
// request of it, the PATCH that would undo it included) is let out by the platform operator,
// who clears the tenant's own limits. (A limit under 60 a minute, a lockout rather than a
// budget, is lifted to it where it is applied: ratelimit-plans.test.ts.)
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { auditOf } from "../identity/helpers";
import { gateway } from "./helpers";

const rootKey = () => String(env.PLATFORM_ROOT_KEY);
const sync = { mode: "sync", on_failure: "open" } as const;

describe("an operator clears a tenant's own rate limits", () => {
  for (const mode of ["sync", "async"] as const) {
    it(`ends a tenant's lockout by its own tenant limit at once (${mode})`, async () => {
      // Time stands still: spent, the bucket stays empty however slow the machine (on the wall
      // clock it gains a request a second, and a CI run under load once saw the 200 of one).
      const clock = manualClock(systemClock.now().toISOString());
      const { call, tenant } = gateway({ tenant: { ...sync, mode } }, {}, clock);
      const t = await tenant("lockout");
      const me = async () => (await call("/api/v1/me", { token: t.adminKey })).status;
      // The lowest tenant limit a tenant may set (60 a minute, a burst of 60), spent to the end:
      // every request of the tenant is refused for a while, the undoing PATCH included.
      const set = await call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body: { rate_limits: { tenant: { limit: 60, period_s: 60 } } },
      });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      let spent = 0;
      while ((await me()) === 200 && spent < 200) spent++;
      expect(spent).toBeGreaterThanOrEqual(50);
      expect(spent).toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await me()).toBe(429);
      const undo = await call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body: { rate_limits: {} },
      });
      expect(undo.status).toBe(429);

      const cleared = await call(`/api/v1/platform/tenants/${t.id}/rate-limits`, {
        method: "DELETE",
        token: rootKey(),
      });
      expect(cleared.status, JSON.stringify(cleared.body)).toBe(204);
      expect(await me()).toBe(200);
      const settings = await call("/api/v1/admin/settings", { token: t.adminKey });
      expect(settings.body.rate_limits).toEqual({});
      // Recorded in the tenant's audit log: the platform changed its settings' rate_limits.
      const entries = await auditOf(t.adminKey, "identity.settings.updated", 2);
      expect(entries.find((e) => e.actor.kind === "platform")?.detail).toEqual({ fields: ["rate_limits"] });
    });
  }

  it("is the platform's alone: a tenant key is refused, an unknown tenant is 404, a repeat is 204", async () => {
    const { call, tenant } = gateway();
    const t = await tenant("reset-who");
    const path = `/api/v1/platform/tenants/${t.id}/rate-limits`;
    const asTenant = await call(path, { method: "DELETE", token: t.adminKey });
    expect(asTenant.status).toBe(403);
    const unknown = await call("/api/v1/platform/tenants/01NOSUCHTENANT0000000000000/rate-limits", {
      method: "DELETE",
      token: rootKey(),
    });
    expect(unknown.status).toBe(404);
    expect((await call(path, { method: "DELETE", token: rootKey() })).status).toBe(204);
    expect((await call(path, { method: "DELETE", token: rootKey() })).status).toBe(204);
  });
});
