// `plinth modules list` names each module's own rate-limit policies (ModuleDef.rate_limits): an
// operator tuning RATE_LIMITS, or a tenant admin its settings, needs the names the registry
// accepts and what each allows. An inventory module's "inventory.write" was in no line of the
// listing, so the name to put in RATE_LIMITS was only in the module's source.
import { describe, expect, it } from "vitest";
import { rateLimitsOf } from "../../scripts/lib/registry.mjs";

const policy = { burst: 10, mode: "sync", on_failure: "closed", tenant_override: false, max_limit: 600 };

describe("plinth modules list's rate limits", () => {
  it("names each policy with its limit, period and mode, a tenant's override and its ceiling", () => {
    expect(
      rateLimitsOf({
        rate_limits: {
          "inventory.write": { ...policy, limit: 60, period_s: 60 },
          "inventory.export": {
            ...policy,
            limit: 5,
            period_s: 3600,
            mode: "async",
            tenant_override: true,
            max_limit: 50,
          },
        },
      }),
    ).toEqual(["inventory.export (5/3600s async, tenant up to 50)", "inventory.write (60/60s sync)"]);
  });

  it("answers none for a module with no policy of its own", () => {
    expect(rateLimitsOf({})).toEqual([]);
  });
});
