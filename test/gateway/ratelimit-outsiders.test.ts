// A tenant's budgets are shared: `tenant` by its users and keys, `tenant_anonymous` by every
// anonymous client naming it. A client its own bucket refuses must not spend them: otherwise one
// address, refused almost every time, could keep charging a tenant until every other client of
// it is answered 429.
import { describe, expect, it } from "vitest";
import { gateway } from "./helpers";

const sync = { mode: "sync", on_failure: "open" } as const;

describe("a refused client spends nothing of the tenant's budget", () => {
  for (const mode of ["sync", "async"] as const) {
    it(`an anonymous address over its own limit cannot lock a tenant's keys out (${mode})`, async () => {
      const { call, tenant } = gateway({
        anonymous: { limit: 3, period_s: 3600, burst: 3, ...sync, mode },
        tenant: { limit: 10, period_s: 3600, burst: 10, ...sync, mode },
        tenant_anonymous: { limit: 10, period_s: 3600, burst: 10, ...sync, mode },
      });
      const victim = await tenant("outsiders");
      const outsider = { tenant: victim.slug, headers: { "cf-connecting-ip": "203.0.113.77" } };
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await call("/api/v1/system/info", outsider)).status);
      // The outsider's own bucket admits its burst, then refuses it.
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(27);
      // The tenant's anonymous budget paid for what was admitted only: another address still gets
      // through, and so does the tenant's own key, whose budget anonymous requests never touch.
      const neighbour = { tenant: victim.slug, headers: { "cf-connecting-ip": "203.0.113.78" } };
      const other = await call("/api/v1/system/info", neighbour);
      expect(other.status, JSON.stringify(other.body)).toBe(200);
      const own = await call("/api/v1/me", { token: victim.adminKey });
      expect(own.status, JSON.stringify(own.body)).toBe(200);
    });
  }
});
