// A job's walk over the tenants through the kernel alone: every live tenant by default, or
// (`forEachTenant(…, { only: "active" })`) the active ones only, leaving suspended tenants out
// in the walk's own query. Deleted tenants are never walked.
import { describe, expect, it } from "vitest";
import { forEachTenant } from "../../src/kernel/jobs/each-tenant";
import { modules } from "../../src/modules";
import { testRuntime } from "../helpers";
import { platform, threeTenants } from "./tenant-fixtures";

/** The ids of `ours` a walk visits, in its order. */
async function visited(ours: readonly string[], options?: Parameters<typeof forEachTenant>[2]) {
  const seen: string[] = [];
  const runtime = { ...testRuntime(), modules };
  const outcome = await forEachTenant(
    runtime,
    async (id) => {
      if (ours.includes(id)) seen.push(id);
    },
    options,
  );
  expect(outcome.failed).toBe(0);
  return seen;
}

describe("forEachTenant", () => {
  it("visits active and suspended tenants by default, never a deleted one", async () => {
    const t = await threeTenants("walk-all");
    const ours = [t.active.id, t.suspended.id, t.deleted.id];
    expect(await visited(ours)).toEqual([t.active.id, t.suspended.id].sort());
  });

  it("with only: 'active' leaves suspended tenants out of the walk itself", async () => {
    const t = await threeTenants("walk-active");
    const ours = [t.active.id, t.suspended.id, t.deleted.id];
    expect(await visited(ours, { only: "active" })).toEqual([t.active.id]);
    // Resumed, it is walked again.
    expect((await platform(`${t.suspended.id}/resume`, "POST")).status).toBe(200);
    expect(await visited(ours, { only: "active" })).toEqual([t.active.id, t.suspended.id].sort());
  });
});
