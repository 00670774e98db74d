// What a product team's job reads of a tenant through the kernel alone: its record (name, plan,
// status) by id with `findTenant`, without naming the tenants module; null once deleted.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findTenant } from "../../src/kernel/auth/tenant-registry";
import { forEachTenant } from "../../src/kernel/jobs/each-tenant";
import type { JobDef, ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { tenantStore } from "../../src/modules/tenants/store";
import { runJobNamed, testRuntime, walkingOnly } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { platform, threeTenants } from "./tenant-fixtures";

describe("findTenant", () => {
  it("reads a tenant's record by id, its status as it is now, and null once it is deleted", async () => {
    const t = await newTenant("find-rec");
    const runtime = { ...testRuntime(), modules };
    expect(await findTenant(runtime, t.id)).toEqual({
      id: t.id,
      slug: t.slug,
      name: `Tenant ${t.slug}`,
      plan: "free",
      status: "active",
      created_at: expect.any(String),
    });
    expect((await platform(t.id, "PATCH", { plan: "pro" })).status).toBe(200);
    expect((await platform(`${t.id}/suspend`, "POST")).status).toBe(200);
    expect(await findTenant(runtime, t.id)).toMatchObject({ plan: "pro", status: "suspended" });
    expect((await platform(t.id, "DELETE")).status).toBe(202);
    expect(await findTenant(runtime, t.id)).toBeNull();
  });

  it("sees a suspension another isolate made at once, while the request path's cache still takes it for active", async () => {
    const t = await newTenant("find-now");
    const runtime = { ...testRuntime(), modules };
    // This isolate's request path now holds the tenant, active, for up to 30 s.
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    // Another isolate suspends it: the registry's row changes, this isolate's cache hears nothing.
    const store = tenantStore(env.DB);
    const row = await store.find("id", t.id);
    if (!row) throw new Error("no tenant");
    await store.mirror({ ...row, status: "suspended", suspended_at: row.created_at, version: row.version + 1 });
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    expect(await findTenant(runtime, t.id)).toMatchObject({ status: "suspended" });
  });

  it("answers null for an id no tenant has, by slug or otherwise, and without a tenant registry", async () => {
    const t = await newTenant("find-none");
    const runtime = { ...testRuntime(), modules };
    expect(await findTenant(runtime, "no-such-tenant")).toBeNull();
    // A slug is not an id.
    expect(await findTenant(runtime, t.slug)).toBeNull();
    const withoutRegistry = modules.filter((m) => !m.auth?.tenants);
    expect(await findTenant({ env, modules: withoutRegistry }, t.id)).toBeNull();
  });
});

describe("a product job over the kernel's tenant walk", () => {
  // What a billing or mailing job writes: active tenants only, each one's plan from its record.
  const plans: Record<string, string> = {};
  const billing: JobDef = {
    name: "bill",
    cron: "0 3 * * *",
    async run(runtime) {
      const { seen, failed } = await forEachTenant(
        runtime,
        async (id) => {
          const tenant = await findTenant(runtime, id);
          if (tenant) plans[id] = tenant.plan;
        },
        { only: "active" },
      );
      if (failed > 0) throw new Error(`${failed} of ${seen} tenants failed to bill`);
      return { tenants: seen };
    },
  };
  const billingModule: ModuleDef = { name: "billing", version: "1.0.0", jobs: [billing] };

  it("bills active tenants by their plan and never reaches a suspended or deleted one", async () => {
    const t = await threeTenants("bill");
    expect((await platform(t.active.id, "PATCH", { plan: "pro" })).status).toBe(200);
    const run = await runJobNamed("billing/bill", {
      modules: walkingOnly([t.active.id, t.suspended.id, t.deleted.id], [...modules, billingModule]),
    });
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
    expect(plans).toEqual({ [t.active.id]: "pro" });
  });
});
