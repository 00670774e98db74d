// The `plinth` CLI during a root-key rotation: a command the served plinth let in with
// PLATFORM_ROOT_KEY_PREVIOUS (its answers say so in Plinth-Deprecated-Credential) prints one
// warning line on stderr, however many requests it made; the new key and a tenant's key, none.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jsonLines, plinth } from "./plinth-cli";
import { newTenantOf, servePlinthForFile } from "./support/served-plinth";

const OLD_ROOT = randomBytes(32).toString("base64url");
const served = servePlinthForFile({ PLATFORM_ROOT_KEY_PREVIOUS: OLD_ROOT });
/** `plinth args` with `key` as PLATFORM_ROOT_KEY, against the served plinth. */
const withRootKey = (key: string, args: string[]) =>
  plinth([...args, "--url", served().origin], { PLATFORM_ROOT_KEY: key });
const WARNING = /^plinth: warning: .*PLATFORM_ROOT_KEY_PREVIOUS.*$/gm;
const isRotationWarning = (line: Record<string, unknown>) =>
  line.warning === "deprecated_credential" && line.variable === "PLATFORM_ROOT_KEY_PREVIOUS";

describe("plinth with the root key being rotated out", () => {
  it("warns once on stderr, naming the variable and what to do, and still does the command", async () => {
    const tenant = await newTenantOf(served());
    const got = await withRootKey(OLD_ROOT, ["tenants", "get", tenant.id]);
    expect(got.status).toBe(0);
    expect(got.stdout).toMatch(/^status +active$/m);
    expect(got.stderr.match(WARNING)).toHaveLength(1);
    expect(got.stderr).toContain("switch to the new PLATFORM_ROOT_KEY");
    // A line, not the key: the value is never printed.
    expect(got.stderr).not.toContain(OLD_ROOT);
  });

  it("warns once per command, not per request: a rebuild of several calls prints one line", async () => {
    // Two tenants at least, one a call at --limit 1.
    await newTenantOf(served());
    await newTenantOf(served());
    const run = await withRootKey(OLD_ROOT, ["audit", "rebuild", "--limit", "1", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).calls).toBeGreaterThan(1);
    expect(jsonLines(run.stderr).filter(isRotationWarning)).toHaveLength(1);
  });

  it("with --json, the warning is a JSON line naming the variable, and a refusal the next JSON line", async () => {
    // A script reading stderr as JSON during a rotation: a plain text line there broke it.
    const tenant = await newTenantOf(served());
    const done = await withRootKey(OLD_ROOT, ["tenants", "get", tenant.id, "--json"]);
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).id).toBe(tenant.id);
    const [warning, ...rest] = jsonLines(done.stderr);
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ warning: "deprecated_credential", variable: "PLATFORM_ROOT_KEY_PREVIOUS" });
    expect(warning?.detail).toContain("switch to the new PLATFORM_ROOT_KEY");
    expect(done.stderr).not.toContain(OLD_ROOT);

    const refused = await withRootKey(OLD_ROOT, ["tenants", "get", "01NOSUCHTENANT0000000000000", "--json"]);
    expect(refused.status).toBe(1);
    const lines = jsonLines(refused.stderr);
    expect(lines).toHaveLength(2);
    expect(isRotationWarning(lines[0] ?? {})).toBe(true);
    expect(lines[1]).toMatchObject({ status: 404, code: "not_found" });
  });

  it("warns on a refused command too, beside the refusal", async () => {
    const run = await withRootKey(OLD_ROOT, ["tenants", "get", "01NOSUCHTENANT0000000000000"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("404 not_found");
    expect(run.stderr.match(WARNING)).toHaveLength(1);
  });

  it("says nothing with the new key, or with a tenant's key", async () => {
    const tenant = await newTenantOf(served());
    const current = await withRootKey(served().rootKey, ["tenants", "get", tenant.id]);
    expect(current.status).toBe(0);
    expect(current.stderr).toBe("");
    const own = await plinth(["keys", "list", "--url", served().origin], { PLINTH_KEY: tenant.key });
    expect(own.status).toBe(0);
    expect(own.stderr).toBe("");
  });
});
