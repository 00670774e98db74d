// `plinth tenants update|suspend|resume` against a served plinth: their record and
// --json output, what the tenant's own key then gets, and the exit codes scripts rely on.
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "../../src/generated/api";
import { plinth } from "./plinth-cli";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
let worker: ServedWorker | undefined;

beforeAll(async () => {
  const encryptionKeys = JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]);
  worker = await serveWorker(ROOT, { vars: { ENCRYPTION_KEYS: encryptionKeys } });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};

/** As the platform operator, against the served plinth. */
const asPlatform = (args: string[]) =>
  plinth([...args, "--url", served().origin], { PLATFORM_ROOT_KEY: served().rootKey });

/** A fresh tenant (made through the typed SDK) and its admin key. */
async function newTenant(): Promise<{ id: string; key: string }> {
  const sdk = createClient<paths>({
    baseUrl: served().origin,
    headers: { authorization: `Bearer ${served().rootKey}` },
  });
  const { data, error } = await sdk.POST("/api/v1/platform/tenants", {
    body: { slug: `cli-${randomUUID().slice(0, 8)}`, name: "CLI", plan: "free" },
  });
  if (!data) throw new Error(`createTenant: ${JSON.stringify(error)}`);
  return { id: data.id, key: data.admin_key };
}

/** A tenant command run with the tenant's own key. */
const asTenant = (key: string, args: string[]) => plinth([...args, "--url", served().origin], { PLINTH_KEY: key });

describe("plinth tenants update", () => {
  it("changes the name and plan and prints the tenant; --json prints the API's JSON", async () => {
    const tenant = await newTenant();
    const run = await asPlatform(["tenants", "update", tenant.id, "--name", "Acme Pro", "--plan", "pro"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^name +Acme Pro$/m);
    expect(run.stdout).toMatch(/^plan +pro$/m);
    expect(run.stdout).toMatch(/^status +active$/m);
    expect(run.stdout).toMatch(/^version +2$/m);

    const json = await asPlatform(["tenants", "update", tenant.id, "--plan", "enterprise", "--json"]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: tenant.id, name: "Acme Pro", plan: "enterprise" });
  });

  it("exits 2 with nothing to change, 1 for a plan the API refuses or an unknown tenant", async () => {
    const tenant = await newTenant();
    const nothing = await asPlatform(["tenants", "update", tenant.id]);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain("--name or --plan");
    const gold = await asPlatform(["tenants", "update", tenant.id, "--plan", "gold"]);
    expect(gold.status).toBe(1);
    expect(gold.stderr).toContain("body.plan");
    const unknown = await asPlatform(["tenants", "update", "01NOSUCHTENANT0000000000000", "--plan", "pro", "--json"]);
    expect(unknown.status).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ status: 404, code: "not_found" });
  });
});

describe("plinth tenants suspend and resume", () => {
  it("suspends (the tenant's key then exits 4 with tenant_suspended) and resumes", async () => {
    const tenant = await newTenant();
    expect((await asTenant(tenant.key, ["keys", "list"])).status).toBe(0);

    const suspended = await asPlatform(["tenants", "suspend", tenant.id, "--reason", "invoice unpaid"]);
    expect(suspended.stderr).toBe("");
    expect(suspended.status).toBe(0);
    expect(suspended.stdout).toMatch(/^status +suspended$/m);
    expect(suspended.stdout).toMatch(/^suspended_reason +invoice unpaid$/m);
    expect(suspended.stdout).toMatch(/^suspended_at +\d{4}-\d\d-\d\dT/m);

    const refused = await asTenant(tenant.key, ["keys", "list"]);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain("403 tenant_suspended");
    expect(refused.stderr).not.toContain("unpaid");

    const resumed = await asPlatform(["tenants", "resume", tenant.id, "--json"]);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "active", suspended_at: null, suspended_reason: null });
    expect((await asTenant(tenant.key, ["keys", "list"])).status).toBe(0);
  });

  it("suspend without a reason; an unknown tenant is 1; a stray argument is 2", async () => {
    const tenant = await newTenant();
    const run = await asPlatform(["tenants", "suspend", tenant.id, "--json"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "suspended", suspended_reason: null });
    const unknown = await asPlatform(["tenants", "resume", "01NOSUCHTENANT0000000000000"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");
    const stray = await asPlatform(["tenants", "resume", tenant.id, "extra"]);
    expect(stray.status).toBe(2);
  });

  it("--help names the options", async () => {
    const help = await plinth(["tenants", "suspend", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("usage: plinth tenants suspend <tenant-id> [--reason <reason>]");
    expect(help.stdout).toContain("PLATFORM_ROOT_KEY");
  });
});
