// bench/lib/plinth-config.mjs keeps its own list of rate-limit policies (plain Node cannot
// import the TypeScript that defines them): a policy missing there would be left at its
// default in the bench and in the Node e2e Worker, and limit their load.
import { describe, expect, it } from "vitest";
import { POLICY_NAMES, rateLimits } from "../../bench/lib/plinth-config.mjs";
import { DEFAULT_POLICIES } from "../../src/kernel/ratelimit/policies";

describe("the bench's plinth config", () => {
  it("names every rate-limit policy plinth has, and puts each out of reach unless told", () => {
    expect([...POLICY_NAMES].sort()).toEqual(Object.keys(DEFAULT_POLICIES).sort());
    const limits = JSON.parse(rateLimits({ login: { limit: 5 } })) as Record<string, { limit: number }>;
    expect(Object.keys(limits).sort()).toEqual(Object.keys(DEFAULT_POLICIES).sort());
    expect(limits.login?.limit).toBe(5);
    expect(limits.two_factor?.limit).toBe(10_000_000);
  });
});
