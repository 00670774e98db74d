// `plinth tenants delete|get` against a served plinth: the refusal without --yes that
// says what would be destroyed, the delete's record and --json, the tenant's key then
// refused as unknown, and `tenants get` showing the deletion.
import { describe, expect, it } from "vitest";
import { plinth } from "./plinth-cli";
import { asPlatform, newTenantOf, servePlinthForFile } from "./support/served-plinth";

const served = servePlinthForFile();
const platformRun = (args: string[]) => asPlatform(served(), args);
const asTenant = (key: string, args: string[]) => plinth([...args, "--url", served().origin], { PLINTH_KEY: key });

describe("plinth tenants delete", () => {
  it("refuses without --yes (exit 2), saying what it would destroy and to export the audit log first; nothing is deleted", async () => {
    const tenant = await newTenantOf(served());
    const refused = await platformRun(["tenants", "delete", tenant.id]);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`erases tenant ${tenant.id} for good`);
    expect(refused.stderr).toContain("audit log");
    // Not only the modules plinth ships: a module a team added is erased too, and the operator is told so.
    expect(refused.stderr).toContain("the data of every other registered module (plinth modules list)");
    expect(refused.stderr).toContain("plinth audit export");
    expect(refused.stderr).toContain("--yes");
    const got = await platformRun(["tenants", "get", tenant.id]);
    expect(got.status).toBe(0);
    expect(got.stdout).toMatch(/^status +active$/m);
    expect((await asTenant(tenant.key, ["keys", "list"])).status).toBe(0);
  });

  it("with --yes deletes it: the tenant is deleting, its key is refused as unknown, get shows it; a repeat answers the same", async () => {
    const tenant = await newTenantOf(served());
    const deleted = await platformRun(["tenants", "delete", tenant.id, "--yes"]);
    expect(deleted.stderr).toBe("");
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toMatch(/^status +deleting$/m);
    expect(deleted.stdout).toMatch(/^deleted_at +\d{4}-\d\d-\d\dT/m);
    expect(deleted.stdout).toContain(`plinth tenants get ${tenant.id}`);

    const refused = await asTenant(tenant.key, ["keys", "list"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("404 tenant_not_found");

    const json = await platformRun(["tenants", "get", tenant.id, "--json"]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: tenant.id, status: "deleting", erasure_done: [] });
    const again = await platformRun(["tenants", "delete", tenant.id, "--yes", "--json"]);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).deleted_at).toBe(JSON.parse(json.stdout).deleted_at);
  });

  it("exits 1 with the API's 404 for an unknown tenant", async () => {
    const unknown = await platformRun(["tenants", "delete", "01NOSUCHTENANT0000000000000", "--yes", "--json"]);
    expect(unknown.status).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ status: 404, code: "not_found" });
  });
});
