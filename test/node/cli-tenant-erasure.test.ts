// `plinth tenants get` of a tenant whose erasure keeps failing: the operator chasing its
// deadline reads when the job last tried it, how many tries failed, the step and the error,
// as the platform API answers them (docs/operations.md, "Offboarding a tenant").
import { describe, expect, it } from "vitest";
import { jsonServing, plinth } from "./plinth-cli";

const tenant = {
  id: "01TENANTWHOSEERASUREFAILS0",
  slug: "stuck",
  name: "Stuck",
  plan: "free",
  status: "deleting",
  created_at: "2026-11-01T00:00:00.000Z",
  suspended_at: null,
  suspended_reason: null,
  version: 3,
  deleted_at: "2026-11-20T10:00:00.000Z",
  erasure_done: ["keys"],
  erasure_tried_at: "2026-12-07T04:10:00.000Z",
  erasure_failures: 41,
  erasure_failed_step: "module:files",
  erasure_error: "Error: R2 bucket unavailable",
};
const active = { ...tenant, id: "01TENANTTHATISACTIVE000000", status: "active", deleted_at: null, erasure_done: [] };
const served = jsonServing((path) => (path.endsWith(active.id) ? active : tenant));
const env = { PLATFORM_ROOT_KEY: "r".repeat(40) };

describe("plinth tenants get, an erasure that keeps failing", () => {
  it("prints when the erasure was last tried, the failed tries, the step and the error", async () => {
    const got = await plinth(["tenants", "get", tenant.id, "--url", served.url()], env);
    expect(got.status, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^erasure_tried_at +2026-12-07T04:10:00\.000Z$/m);
    expect(got.stdout).toMatch(/^erasure_failures +41$/m);
    expect(got.stdout).toMatch(/^erasure_failed_step +module:files$/m);
    expect(got.stdout).toMatch(/^erasure_error +Error: R2 bucket unavailable$/m);
  });

  it("prints none of it for a tenant not being deleted", async () => {
    const got = await plinth(["tenants", "get", active.id, "--url", served.url()], env);
    expect(got.status, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^status +active$/m);
    expect(got.stdout).not.toContain("erasure_tried_at");
  });
});
