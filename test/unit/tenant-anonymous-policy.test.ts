// The `tenant_anonymous` policy a tenant gets: its plan's share, the operator's cap, and the
// tenant's own setting between the 60-a-minute floor and the plan's share.
import { describe, expect, it } from "vitest";
import { effectivePolicy, floorFor, platformPolicies } from "../../src/kernel/ratelimit/policies";

describe("the tenant_anonymous policy", () => {
  const policies = platformPolicies();

  it("is a third of each plan's tenant limit, and free's for a plan it does not know", () => {
    const limitOf = (plan: string) => effectivePolicy(policies, "tenant_anonymous", plan, undefined).limit;
    expect(["free", "pro", "enterprise", "gold"].map(limitOf)).toEqual([6000, 20_000, 60_000, 6000]);
  });

  it("is capped by the operator's max_limit, as the tenant policy is", () => {
    const capped = platformPolicies({ tenant_anonymous: { max_limit: 100 } });
    expect(effectivePolicy(capped, "tenant_anonymous", "enterprise", undefined).limit).toBe(100);
  });

  it("takes a tenant's own setting, clamped to the plan's share and lifted to the floor", () => {
    const own = (limit: number) => effectivePolicy(policies, "tenant_anonymous", "free", { limit, period_s: 60 }).limit;
    expect([own(120), own(1_000_000), own(1)]).toEqual([120, 6000, 60]);
    expect(floorFor("tenant_anonymous", 3600)).toBe(3600);
    expect(floorFor("principal", 3600)).toBe(1);
  });
});
