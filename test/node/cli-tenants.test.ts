// `plinth tenants update|suspend|resume` against a served plinth: their record and
// --json output, what the tenant's own key then gets, and the exit codes scripts rely on.
import { describe, expect, it } from "vitest";
import { PLANS } from "../../src/kernel/ratelimit/policies";
import { plinth } from "./plinth-cli";
import { asPlatform, newTenantOf, servePlinthForFile } from "./support/served-plinth";

const served = servePlinthForFile();
const newTenant = () => newTenantOf(served());
/** As the platform operator, against the served plinth. */
const platformRun = (args: string[]) => asPlatform(served(), args);

/** A tenant command run with the tenant's own key. */
const asTenant = (key: string, args: string[]) => plinth([...args, "--url", served().origin], { PLINTH_KEY: key });

describe("plinth tenants update", () => {
  it("changes the name and plan and prints the tenant; --json prints the API's JSON", async () => {
    const tenant = await newTenant();
    const run = await platformRun(["tenants", "update", tenant.id, "--name", "Acme Pro", "--plan", "pro"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^name +Acme Pro$/m);
    expect(run.stdout).toMatch(/^plan +pro$/m);
    expect(run.stdout).toMatch(/^status +active$/m);
    expect(run.stdout).toMatch(/^version +2$/m);

    const json = await platformRun(["tenants", "update", tenant.id, "--plan", "enterprise", "--json"]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: tenant.id, name: "Acme Pro", plan: "enterprise" });
  });

  it("exits 2 with nothing to change, 1 for a plan the API refuses or an unknown tenant", async () => {
    const tenant = await newTenant();
    const nothing = await platformRun(["tenants", "update", tenant.id]);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain("--name or --plan");
    const gold = await platformRun(["tenants", "update", tenant.id, "--plan", "gold"]);
    expect(gold.status).toBe(1);
    expect(gold.stderr).toContain("body.plan");
    const unknown = await platformRun(["tenants", "update", "01NOSUCHTENANT0000000000000", "--plan", "pro", "--json"]);
    expect(unknown.status).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ status: 404, code: "not_found" });
  });
});

describe("plinth tenants suspend and resume", () => {
  it("suspends (the tenant's key then exits 4 with tenant_suspended) and resumes", async () => {
    const tenant = await newTenant();
    expect((await asTenant(tenant.key, ["keys", "list"])).status).toBe(0);

    const suspended = await platformRun(["tenants", "suspend", tenant.id, "--reason", "invoice unpaid"]);
    expect(suspended.stderr).toBe("");
    expect(suspended.status).toBe(0);
    expect(suspended.stdout).toMatch(/^status +suspended$/m);
    expect(suspended.stdout).toMatch(/^suspended_reason +invoice unpaid$/m);
    expect(suspended.stdout).toMatch(/^suspended_at +\d{4}-\d\d-\d\dT/m);

    const refused = await asTenant(tenant.key, ["keys", "list"]);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain("403 tenant_suspended");
    expect(refused.stderr).not.toContain("unpaid");

    const resumed = await platformRun(["tenants", "resume", tenant.id, "--json"]);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "active", suspended_at: null, suspended_reason: null });
    expect((await asTenant(tenant.key, ["keys", "list"])).status).toBe(0);
  });

  it("suspend without a reason; an unknown tenant is 1; a stray argument is 2", async () => {
    const tenant = await newTenant();
    const run = await platformRun(["tenants", "suspend", tenant.id, "--json"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "suspended", suspended_reason: null });
    const unknown = await platformRun(["tenants", "resume", "01NOSUCHTENANT0000000000000"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");
    const stray = await platformRun(["tenants", "resume", tenant.id, "extra"]);
    expect(stray.status).toBe(2);
  });

  it("suspending a suspended tenant with another reason exits 1 naming the reason kept; a retry exits 0", async () => {
    // It printed the tenant with the first reason, exit 0, the new reason dropped without a word.
    const tenant = await newTenant();
    const first = await platformRun(["tenants", "suspend", tenant.id, "--reason", "invoice unpaid"]);
    expect(first.status).toBe(0);
    const retry = await platformRun(["tenants", "suspend", tenant.id, "--reason", "invoice unpaid"]);
    expect(retry.status).toBe(0);
    expect(retry.stdout).toBe(first.stdout);
    const other = await platformRun(["tenants", "suspend", tenant.id, "--reason", "abuse report"]);
    expect(other.status).toBe(1);
    expect(other.stdout).toBe("");
    expect(other.stderr).toMatch(
      new RegExp(
        `^plinth: 409 conflict: tenant ${tenant.id} is already suspended, since \\S+, for "invoice unpaid": the reason "abuse report" is not recorded; to change it, resume the tenant and suspend it again\n$`,
      ),
    );
    // The way the message names works: resume, then suspend with the new reason.
    expect((await platformRun(["tenants", "resume", tenant.id])).status).toBe(0);
    const again = await platformRun(["tenants", "suspend", tenant.id, "--reason", "abuse report"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^suspended_reason +abuse report$/m);
  });

  it("create's and update's --help name every plan the API takes", async () => {
    // create's said only "its plan (default free)": the plans were found by a refused request.
    for (const command of ["create", "update"]) {
      const help = (await plinth(["tenants", command, "--help"])).stdout;
      const line = help.split("\n").find((l) => l.trimStart().startsWith("--plan")) ?? "";
      for (const plan of PLANS) expect(line, `${command}: ${plan}`).toMatch(new RegExp(`\\b${plan}\\b`));
    }
  });

  it("--help names the options", async () => {
    const help = await plinth(["tenants", "suspend", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("usage: plinth tenants suspend <tenant-id> [--reason <reason>]");
    expect(help.stdout).toContain("PLATFORM_ROOT_KEY");
  });
});

describe("plinth tenants reset-limits", () => {
  it("clears the tenant's own rate limits (its settings then have none); an unknown tenant is 1", async () => {
    const tenant = await newTenant();
    const settings = (init?: RequestInit) =>
      fetch(`${served().origin}/api/v1/admin/settings`, {
        ...init,
        headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
      }).then((r) => r.json() as Promise<{ rate_limits: Record<string, unknown> }>);
    const set = await settings({
      method: "PATCH",
      body: JSON.stringify({ rate_limits: { principal: { limit: 100, period_s: 60 } } }),
    });
    expect(set.rate_limits).toEqual({ principal: { limit: 100, period_s: 60 } });

    const run = await platformRun(["tenants", "reset-limits", tenant.id]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`cleared the rate limits of tenant ${tenant.id}`);
    expect((await settings()).rate_limits).toEqual({});

    const json = await platformRun(["tenants", "reset-limits", tenant.id, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ rate_limits_cleared: tenant.id });
    const unknown = await platformRun(["tenants", "reset-limits", "01NOSUCHTENANT0000000000000"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");
  });
});
