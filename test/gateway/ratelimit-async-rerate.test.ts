// An async policy decides from the isolate's estimate of a key's TAT: when the tenant changes the
// setting, the estimate must be re-counted at the new rate as the key's object re-counts it
// (gcra.ts `rerated`), or the isolate goes on deciding at the old one.
import { describe, expect, it } from "vitest";
import { gateway } from "./helpers";

describe("async policies, a changed setting", () => {
  it("raising a limit set too low ends the lockout in the isolate too", async () => {
    const { call, tenant } = gateway({
      principal: { limit: 1000, period_s: 60, burst: 1000, max_limit: 1000, mode: "async", on_failure: "open" },
    });
    const t = await tenant();
    const keyOf = async (name: string) =>
      String((await call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name, scopes: ["*"] } })).body.key);
    const script = await keyOf("script");
    const fixer = await keyOf("fixer");
    const setLimit = async (limit: number, period_s: number, token = t.adminKey) =>
      (
        await call("/api/v1/admin/settings", {
          method: "PATCH",
          token,
          body: { rate_limits: { principal: { limit, period_s } } },
        })
      ).status;
    const me = async () => (await call("/api/v1/me", { token: script })).status;
    expect(await setLimit(1, 86_400)).toBe(200);
    expect([await me(), await me()]).toEqual([200, 429]);
    // Back to 1,000 a minute: one request owed, a 60 ms interval, not the day the estimate held as time.
    expect(await setLimit(1000, 60, fixer)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([await me(), await me(), await me()]).toEqual([200, 200, 200]);
  });
});
