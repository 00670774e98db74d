import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runSchemaStatement } from "../../src/kernel/durable/sqlite-schema";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { DIRECTORY_SCHEMA } from "../../src/modules/identity/directory/schema";
import { runJobNamed } from "../helpers";
import { appliedGrants, grantedTo } from "../identity/grants";
import { auditOf, call, newTenant } from "../identity/helpers";

/** A module deployed after the tenants below were created: its grant is what the job brings them. */
const probe: ModuleDef = {
  name: "latecomer",
  version: "1.0.0",
  permissions: ["latecomer.thing.read", "latecomer.thing.create"],
  grants: { member: ["latecomer.thing.read"], viewer: ["latecomer.thing.read"] },
};
const deployed = [...modules, probe];

const sync = async () => {
  const run = await runJobNamed("tenants/apply-grants", { modules: deployed });
  expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");
};

const permissionsOf = async (t: { adminKey: string }, role: string) => {
  const res = await call(`/api/v1/admin/roles/${role}`, { token: t.adminKey });
  return res.status === 200 ? (res.body.permissions as string[]) : null;
};

/** The directory's ledger of applied grants, and whether it carries the baseline mark. */
const ledgerOf = (tenantId: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => ({
    applied: state.storage.sql
      .exec<{ role: string; permission: string }>("select role, permission from applied_grants order by 1, 2")
      .toArray()
      .map((r) => `${r.role} ${r.permission}`),
    marked: state.storage.sql.exec<{ n: number }>("select count(*) as n from grant_baseline").one().n > 0,
  }));

describe("tenants/apply-grants", () => {
  afterEach(() => vi.restoreAllMocks());

  it("adds a module's new grant to an existing tenant's role once, so an admin's removal stays", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("grants");
    // Created with the deployed modules' grants, which its ledger records as applied.
    expect(await ledgerOf(t.id)).toEqual({ applied: appliedGrants(), marked: false });
    expect(await permissionsOf(t, "member")).not.toContain("latecomer.thing.read");

    await sync();
    // The job appends what it adds to the role as created.
    expect(await permissionsOf(t, "member")).toEqual([...grantedTo("member"), "latecomer.thing.read"]);
    // `*.read` covers it already: the viewer role is not rewritten for nothing.
    expect(await permissionsOf(t, "viewer")).toEqual(grantedTo("viewer", ["*.read"]));
    // Changed as an admin's PUT changes it: audited, the job named as the actor.
    const [entry] = await auditOf(t.adminKey, "identity.role.updated");
    // No request caused it: no request id, no address hash (systemOrigin).
    expect(entry).toMatchObject({
      actor: { kind: "system", id: "tenants/apply-grants" },
      request_id: null,
      ip_hash: null,
    });

    // The admin takes it away again; the next run leaves the role as the admin made it.
    const put = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read"], description: "Readers" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await sync();
    expect(await permissionsOf(t, "member")).toEqual(["blog.post.read"]);
  });

  it("does not re-create a role the admin deleted, and records the grant as applied", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("grants");
    // viewer: member, which registration gives, cannot be deleted.
    const del = await call("/api/v1/admin/roles/viewer", { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    await sync();
    expect(await permissionsOf(t, "viewer")).toBeNull();
    expect((await ledgerOf(t.id)).applied).toContain("viewer latecomer.thing.read");
  });

  it("a directory that held a tenant before the ledger only records on its first sync, and adds what comes later", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("grants");
    // As the directory was before the ledger's schema step: the step runs again with the tenant there.
    // Only that step: the steps after it (role versions, the SSO link column) cannot all be undone.
    const ledgerStep = DIRECTORY_SCHEMA.findIndex((step) =>
      step.some((s) => typeof s === "string" && s.includes("table applied_grants")),
    );
    expect(ledgerStep).toBeGreaterThan(0);
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      const sql = state.storage.sql;
      sql.exec("drop table applied_grants");
      sql.exec("drop table grant_baseline");
      for (const statement of DIRECTORY_SCHEMA[ledgerStep] ?? []) runSchemaStatement(sql, statement);
    });
    expect(await ledgerOf(t.id)).toEqual({ applied: [], marked: true });

    await sync();
    // Nothing added (a missing grant may be an admin's removal), every declared grant recorded.
    expect(await permissionsOf(t, "member")).toEqual(grantedTo("member"));
    expect(await ledgerOf(t.id)).toEqual({
      applied: appliedGrants(["member latecomer.thing.read", "viewer latecomer.thing.read"]),
      marked: false,
    });

    // A grant declared after the baseline reaches the role.
    const later: ModuleDef = { ...probe, grants: { member: ["latecomer.thing.read", "latecomer.thing.create"] } };
    const run = await runJobNamed("tenants/apply-grants", { modules: [...modules, later] });
    expect(run.ran && run.run.outcome).toBe("ok");
    expect(await permissionsOf(t, "member")).toEqual([...grantedTo("member"), "latecomer.thing.create"]);
  });

  it("leaves a grant for a later run when its role holds as many permissions as a role may", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("grants");
    const full = Array.from({ length: 500 }, (_, i) => `filler.thing.p${i}`);
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update roles set permissions = ? where name = 'member'", JSON.stringify(full));
    });
    await sync();
    // The role stays readable (at most 500 permissions), and the grant is not spent.
    expect(await permissionsOf(t, "member")).toHaveLength(500);
    expect((await ledgerOf(t.id)).applied).not.toContain("member latecomer.thing.read");

    // Once the admin makes room, the next run adds it.
    const put = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read"], description: "Readers" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await sync();
    expect(await permissionsOf(t, "member")).toEqual(["blog.post.read", "latecomer.thing.read"]);
  });

  it("one tenant's ledger never decides for another", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const first = await newTenant("grants");
    const second = await newTenant("grants");
    // The first tenant applied the grant once already (its admin removed it since).
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(first.id), (_, state) => {
      state.storage.sql.exec(
        "insert into applied_grants (role, permission, applied_at) values ('member', 'latecomer.thing.read', ?)",
        new Date(0).toISOString(),
      );
    });
    await sync();
    expect(await permissionsOf(first, "member")).not.toContain("latecomer.thing.read");
    expect(await permissionsOf(second, "member")).toContain("latecomer.thing.read");
  });
});
