// A permission pattern is well-formed by its shape (`*`, `<module>.*`, `*.<action>`), but one that
// covers no declared permission grants nothing: a typo (`blgo.*`) an admin would never notice,
// since the role or key is created all the same. Such a pattern is refused as an unknown exact
// permission is (docs/identity.md, "Roles"; the removed module's patterns a role holds already
// are role-undeclared.test.ts's).
import { describe, expect, it } from "vitest";
import { grantedTo } from "./grants";
import { call, newTenant } from "./helpers";

type FieldError = { path: string; message: string };

describe("a pattern that covers no declared permission is a typo", () => {
  it("is a 400 naming it when a role is created, with the nearest declared pattern as a hint", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "typos", permissions: ["blog.post.read", "blgo.*", "*.fly", "blog.post.pubilsh"] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.detail).toBe("unknown permissions: blgo.*, *.fly, blog.post.pubilsh");
    const errors = res.body.errors as FieldError[];
    expect(errors.map((e) => e.path)).toEqual(["body.permissions.1", "body.permissions.2", "body.permissions.3"]);
    expect(errors[0]?.message).toBe("blgo.* covers no declared permission (did you mean blog.*?)");
    // Nothing declares an action close to "fly": no hint rather than a wrong one.
    expect(errors[1]?.message).toBe("*.fly covers no declared permission");
    expect(errors[2]?.message).toBe("unknown permission blog.post.pubilsh (did you mean blog.post.publish?)");
    expect((await call("/api/v1/admin/roles/typos", { token: t.adminKey })).status).toBe(404);
  });

  it("is a 400 when a role is rewritten, and the role stays as it was", async () => {
    const t = await newTenant();
    const put = await call("/api/v1/admin/roles/viewer", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: ["*.read", "*.raed"] },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(400);
    expect(put.body.detail).toBe("unknown permission: *.raed");
    expect((put.body.errors as FieldError[])[0]?.message).toBe(
      "*.raed covers no declared permission (did you mean *.read?)",
    );
    const viewer = await call("/api/v1/admin/roles/viewer", { token: t.adminKey });
    // The refused PUT left the role as a new tenant has it: `*.read` and what the modules grant it.
    expect(viewer.body.permissions).toEqual(grantedTo("viewer", ["*.read"]));
  });

  it("is a 400 in a new API key's scopes", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "typo", scopes: ["blgo.*"] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.detail).toBe("unknown permission: blgo.*");
    expect((res.body.errors as FieldError[]).map((e) => e.path)).toEqual(["body.scopes.0"]);
  });

  it("a wildcard in a shape no pattern has (`blog.post.*`) says which shapes there are and what it would have matched", async () => {
    // Webhook filters take `blog.post.*`, so an admin writes it in a role too; "unknown
    // permission blog.post.*" left them guessing whether blog.post was misspelt.
    const t = await newTenant();
    const res = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "posts", permissions: ["blog.post.*", "blog.*.read"] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.detail).toBe("unknown permissions: blog.post.*, blog.*.read");
    const errors = res.body.errors as FieldError[];
    expect(errors[0]?.message).toBe(
      "blog.post.* is not a pattern (a pattern is *, <module>.* or *.<action>): name the permissions it meant one by one: blog.post.create, blog.post.delete, blog.post.publish, blog.post.read, blog.post.update",
    );
    expect(errors[1]?.message).toBe(
      "blog.*.read is not a pattern (a pattern is *, <module>.* or *.<action>): name the permissions it meant one by one: blog.post.read",
    );
    const key = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "posts", scopes: ["nothing.here.*"] },
    });
    expect(key.status, JSON.stringify(key.body)).toBe(400);
    expect((key.body.errors as FieldError[])[0]?.message).toBe(
      "nothing.here.* is not a pattern (a pattern is *, <module>.* or *.<action>)",
    );
  });

  it("patterns covering at least one declared permission, and `*`, stay valid", async () => {
    const t = await newTenant();
    const patterns = ["*", "*.publish", "*.read", "blog.*", "identity.*"];
    const role = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "wide", permissions: patterns },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    expect(role.body.permissions).toEqual(patterns);
    expect(role.body.unknown_permissions).toBeUndefined();
    const key = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "wide", scopes: ["blog.*", "*.publish"] },
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    expect(key.body.unknown_scopes).toBeUndefined();
  });
});
