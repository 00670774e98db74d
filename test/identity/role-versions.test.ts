// Roles carry a version (ETag) and their writes honour If-Match, so a read-modify-write of a
// role cannot silently undo a change made in between: another admin's, or the grants job's.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runSchemaStatement } from "../../src/kernel/durable/sqlite-schema";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { DIRECTORY_SCHEMA } from "../../src/modules/identity/directory/schema";
import { runJobNamed } from "../helpers";
import { call, newTenant } from "./helpers";

const role = (t: { adminKey: string }, name: string) => call(`/api/v1/admin/roles/${name}`, { token: t.adminKey });

const put = (t: { adminKey: string }, name: string, permissions: string[], ifMatch?: string) =>
  call(`/api/v1/admin/roles/${name}`, {
    method: "PUT",
    token: t.adminKey,
    body: { permissions },
    ...(ifMatch === undefined ? {} : { headers: { "if-match": ifMatch } }),
  });

const remove = (t: { adminKey: string }, name: string, ifMatch: string) =>
  call(`/api/v1/admin/roles/${name}`, { method: "DELETE", token: t.adminKey, headers: { "if-match": ifMatch } });

describe("role versions (happy)", () => {
  it("a role starts at version 1, each change bumps it, and GET, PUT and the list show it", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "editor", permissions: ["blog.post.read"] },
    });
    expect(created.status).toBe(201);
    expect(created.body.version).toBe(1);
    expect(created.headers.get("etag")).toBe('"1"');
    const got = await role(t, "editor");
    expect(got.headers.get("etag")).toBe('"1"');
    expect(got.body.version).toBe(1);

    const replaced = await put(t, "editor", ["blog.post.read", "blog.post.update"], '"1"');
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.headers.get("etag")).toBe('"2"');
    expect(replaced.body).toMatchObject({ name: "editor", version: 2 });

    const list = await call("/api/v1/admin/roles", { token: t.adminKey });
    const items = list.body.items as { name: string; version: number }[];
    expect(items.find((r) => r.name === "editor")?.version).toBe(2);
    expect(items.find((r) => r.name === "viewer")?.version).toBe(1);

    // Without If-Match a write applies to whatever version is current, as before.
    expect((await put(t, "editor", ["blog.post.read"])).body.version).toBe(3);
    expect((await remove(t, "editor", '"3"')).status).toBe(204);
  });
});

describe("role versions (no-op writes)", () => {
  /** How many events the role's stream holds: each is an audit entry and a webhook delivery. */
  const roleEvents = (t: { id: string }, name: string) =>
    runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      const rows = state.storage.sql
        .exec<{ version: number }>("select version from stream_versions where stream = ?", `${t.id}/role/${name}`)
        .toArray();
      return rows[0]?.version ?? 0;
    });

  it("a PUT that changes nothing answers the role as it is: no new version, no event, and another writer's If-Match still holds", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "editor", permissions: ["blog.post.update", "blog.post.read"], description: "edits" },
    });
    expect(created.status).toBe(201);
    const events = await roleEvents(t, "editor");

    // A script re-applying the same definition (in another order, a permission twice) changes nothing.
    const same = await call("/api/v1/admin/roles/editor", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read", "blog.post.update", "blog.post.read"], description: "edits" },
    });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.headers.get("etag")).toBe('"1"');
    expect(same.body).toMatchObject({ name: "editor", version: 1, description: "edits" });
    expect(await roleEvents(t, "editor")).toBe(events);

    // So the admin who read version 1 still writes.
    expect((await put(t, "editor", ["blog.post.read"], '"1"')).status).toBe(200);
    // A description alone is a change.
    const described = await call("/api/v1/admin/roles/editor", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read"], description: "reads" },
    });
    expect(described.body.version).toBe(3);

    // A no-op from a stale read is still 412: the If-Match is checked first, as for settings.
    const stale = await call("/api/v1/admin/roles/editor", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["blog.post.read"], description: "reads" },
      headers: { "if-match": '"2"' },
    });
    expect(stale.status).toBe(412);
  });
});

describe("role versions (errors)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a second admin's PUT or DELETE from the same read is 412, and the first admin's change stays", async () => {
    const t = await newTenant();
    await call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "editor", permissions: ["blog.post.read"] } });
    const etag = (await role(t, "editor")).headers.get("etag") ?? "";
    expect((await put(t, "editor", ["blog.post.read", "blog.post.update"], etag)).status).toBe(200);

    const stale = await put(t, "editor", ["blog.post.read", "blog.post.publish"], etag);
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe("version_conflict");
    expect(stale.body.current_version).toBe(2);
    const gone = await remove(t, "editor", etag);
    expect(gone.status).toBe(412);
    expect(gone.body.current_version).toBe(2);
    expect((await role(t, "editor")).body.permissions).toEqual(["blog.post.read", "blog.post.update"]);
  });

  it("the grants job's change bumps the version: an admin's edit from an earlier read is 412, not a lost grant", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("grants");
    const before = await role(t, "member");
    const etag = before.headers.get("etag") ?? "";
    expect(etag).toBe('"1"');

    const latecomer: ModuleDef = {
      name: "latecomer",
      version: "1.0.0",
      permissions: ["latecomer.thing.read"],
      grants: { member: ["latecomer.thing.read"] },
    };
    const run = await runJobNamed("tenants/apply-grants", { modules: [...modules, latecomer] });
    expect(run.ran && run.run.outcome, JSON.stringify(run)).toBe("ok");

    // The admin's script edits what it read before the job ran.
    const edited = [...(before.body.permissions as string[]), "identity.user.read"];
    const res = await put(t, "member", edited, etag);
    expect(res.status, JSON.stringify(res.body)).toBe(412);
    const after = await role(t, "member");
    expect(after.headers.get("etag")).toBe('"2"');
    expect(after.body.permissions).toContain("latecomer.thing.read");
  });

  it("a role deleted and created again does not take an If-Match meant for the old one", async () => {
    const t = await newTenant();
    const body = { name: "editor", permissions: ["blog.post.read"] };
    expect((await call("/api/v1/admin/roles", { token: t.adminKey, body })).status).toBe(201);
    const deleted = await remove(t, "editor", '"1"');
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get("etag")).toBe('"2"');
    const again = await call("/api/v1/admin/roles", { token: t.adminKey, body });
    expect(again.status).toBe(201);
    expect(again.body.version).toBeGreaterThan(2);
    expect((await put(t, "editor", ["blog.post.update"], '"1", "2"')).status).toBe(412);

    // A built-in role's creation is no event of its stream: deleted and created again, it still starts past both.
    // (viewer: member, which registration gives, cannot be deleted.)
    expect((await put(t, "viewer", ["*.read"], '"1"')).headers.get("etag")).toBe('"2"');
    expect((await remove(t, "viewer", '"2"')).headers.get("etag")).toBe('"3"');
    const back = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name: "viewer", permissions: [] } });
    expect(back.body.version).toBeGreaterThan(3);
  });

  it("an unknown role is 404 whatever If-Match says; a malformed If-Match is 400", async () => {
    const t = await newTenant();
    expect((await put(t, "nobody", ["blog.post.read"], '"1"')).status).toBe(404);
    expect((await remove(t, "nobody", '"1"')).status).toBe(404);
    const bad = await put(t, "viewer", ["*.read"], '"1');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("validation_failed");
  });
});

describe("role versions (upgrade)", () => {
  it("roles of a directory from before versions read as version 1 after the upgrade", async () => {
    const t = await newTenant();
    // As the directory was before the version column: the step runs again over the old roles.
    // Found by its statement, not as the last step: later steps (sso_states.link_user_id) must not run twice.
    const step = DIRECTORY_SCHEMA.findIndex((statements) =>
      statements.some(
        (statement) => typeof statement === "string" && statement.includes("alter table roles add column version"),
      ),
    );
    expect(step).toBeGreaterThan(0);
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      const sql = state.storage.sql;
      sql.exec("alter table roles drop column version");
      for (const statement of DIRECTORY_SCHEMA[step] ?? []) runSchemaStatement(sql, statement);
    });
    const viewer = await role(t, "viewer");
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get("etag")).toBe('"1"');
    expect((await put(t, "viewer", ["*.read"], '"1"')).headers.get("etag")).toBe('"2"');
  });
});
