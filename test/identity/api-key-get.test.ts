// One API key by id (GET /api/v1/admin/api-keys/{id}): what the POSTs that create a key point
// at with Location. It answers as the list does (no secret), to the list's permission, and
// never for another tenant's key.
import { describe, expect, it } from "vitest";
import { call, newKey, newTenant, rootKey } from "./helpers";

describe("GET /api/v1/admin/api-keys/{id}", () => {
  it("the create answers Location, which reads the key as the list shows it, without its secret", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "deploy bot", scopes: ["identity.user.read"] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.get("location")).toBe(`/api/v1/admin/api-keys/${id}`);

    const one = await call(`/api/v1/admin/api-keys/${id}`, { token: t.adminKey });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    const list = await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
    const listed = (list.body.items as { id: string }[]).find((k) => k.id === id);
    expect(one.body).toEqual(listed);
    expect(one.body).not.toHaveProperty("key");
    expect(JSON.stringify(one.body)).not.toContain(created.body.key as string);
  });

  it("needs the list's permission: a key that may only create keys is refused", async () => {
    const t = await newTenant();
    const target = await newKey(t.adminKey, ["identity.user.read"]);
    const writer = await newKey(t.adminKey, ["admin.keys.write", "identity.user.read"], "writer");
    const reader = await newKey(t.adminKey, ["admin.keys.read"], "reader");
    expect((await call(`/api/v1/admin/api-keys/${target.id}`, { token: writer.key })).status).toBe(403);
    const read = await call(`/api/v1/admin/api-keys/${target.id}`, { token: reader.key });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: target.id, name: "scoped", scopes: ["identity.user.read"] });
  });

  it("another tenant's key, an unknown id and a revoked key answer 404", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const theirs = await newKey(b.adminKey, ["identity.user.read"]);
    const other = await call(`/api/v1/admin/api-keys/${theirs.id}`, { token: a.adminKey });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe("not_found");
    // Not through the other tenant's slug either: the credential's tenant and the header disagree.
    const named = await call(`/api/v1/admin/api-keys/${theirs.id}`, { token: a.adminKey, tenant: b.slug });
    expect(named.status).toBe(403);
    expect(named.body.code).toBe("tenant_mismatch");
    expect((await call("/api/v1/admin/api-keys/01NOSUCHKEY0000000000000000", { token: a.adminKey })).status).toBe(404);
    const mine = await newKey(a.adminKey, ["identity.user.read"]);
    expect((await call(`/api/v1/admin/api-keys/${mine.id}`, { method: "DELETE", token: a.adminKey })).status).toBe(204);
    expect((await call(`/api/v1/admin/api-keys/${mine.id}`, { token: a.adminKey })).status).toBe(404);
  });

  it("the platform's recovery key answers Location too, which the key itself reads", async () => {
    const t = await newTenant();
    const issued = await call(`/api/v1/platform/tenants/${t.id}/admin-keys`, {
      token: rootKey(),
      body: { name: "recovery" },
    });
    expect(issued.status).toBe(201);
    const location = issued.headers.get("location");
    expect(location).toBe(`/api/v1/admin/api-keys/${issued.body.id as string}`);
    const read = await call(location ?? "", { token: issued.body.key as string });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: issued.body.id, name: "recovery", scopes: ["*"] });
    expect(read.body).not.toHaveProperty("key");
  });
});
