// A TenantDirectory whose schema ran under 5b1f27d8 (tenants: suspension) recorded version 9 as
// three `alter table tenant` statements; 488b1a38 then added a fourth (`version`) to that same,
// shipped version, which such an object never runs. Its later versions ran as usual. Today's code
// reads and writes tenant.version: the directory must get the column, with its default, before.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { migrateSqlite } from "../../src/kernel/durable/sqlite-schema";
import { DIRECTORY_SCHEMA } from "../../src/modules/identity/directory/schema";
import { call, newTenant, rootKey } from "./helpers";

const platform = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  call(`/api/v1/platform/tenants${path}`, { token: rootKey(), ...init });

describe("tenant version (upgrade of a directory made before it)", () => {
  it("a directory whose suspension step ran without the version column gets it, at version 1", async () => {
    const t = await newTenant("oldver");
    // As 5b1f27d8..32f5f210 left it (every later version then ran as usual): all versions recorded,
    // tenant without `version`. Then the next deploy's constructor migrates this storage (objects stay
    // in memory in this test run, so it is called here as that constructor calls it).
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("alter table tenant drop column version");
      // Made by a deploy before the repair step: that step and any after it not yet recorded.
      const repair = DIRECTORY_SCHEMA.findIndex((v) => v.some((s) => typeof s !== "string" && s.column === "version"));
      expect(repair).toBeGreaterThan(0);
      state.storage.sql.exec("delete from _schema where version > ?", repair);
      migrateSqlite(state.storage, DIRECTORY_SCHEMA);
    });
    const changed = await platform(`/${t.id}`, {
      method: "PATCH",
      headers: { "if-match": '"1"' },
      body: { plan: "pro" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ plan: "pro", version: 2 });
    const columns = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql
        .exec<{ name: string }>("select name from pragma_table_info('tenant') where name = 'version'")
        .toArray(),
    );
    expect(columns).toEqual([{ name: "version" }]);
  });
  it("a directory that has the column keeps its tenant's version through the repair", async () => {
    const t = await newTenant("hasver");
    expect((await platform(`/${t.id}`, { method: "PATCH", body: { plan: "pro" } })).body.version).toBe(2);
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      const repair = DIRECTORY_SCHEMA.findIndex((v) => v.some((s) => typeof s !== "string" && s.column === "version"));
      state.storage.sql.exec("delete from _schema where version > ?", repair);
      migrateSqlite(state.storage, DIRECTORY_SCHEMA);
    });
    const changed = await platform(`/${t.id}`, {
      method: "PATCH",
      headers: { "if-match": '"2"' },
      body: { plan: "free" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.version).toBe(3);
  });
});
