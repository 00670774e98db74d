import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";

describe("system module", () => {
  it("reports the package version, the injected commit and the registered modules", async () => {
    const res = await SELF.fetch("http://plinth.test/api/v1/system/info");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      version: pkg.version,
      commit: "test-commit",
      // In dependency order: tenants, blog and audit need identity.
      modules: [
        { name: "system", version: "1.0.0" },
        { name: "identity", version: "1.0.0" },
        { name: "tenants", version: "1.0.0" },
        { name: "events", version: "1.0.0" },
        { name: "blog", version: "1.0.0" },
        { name: "audit", version: "1.0.0" },
      ],
    });
  });
});
