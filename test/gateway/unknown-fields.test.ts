// Every JSON body of an object schema refuses fields the operation does not take, naming
// them: a new user's `expiresAt` (for `expires_at`) made an API key that never expires, and
// `enabled: false` on a create made an enabled webhook endpoint.
import { describe, expect, it } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

describe("unknown body fields", () => {
  it("are a 400 naming them, on every kind of object body", async () => {
    const t = await newTenant();
    const cases: [string, string, Record<string, unknown>][] = [
      [
        "/api/v1/admin/api-keys",
        t.adminKey,
        { name: "ci", scopes: ["blog.post.read"], expiresAt: "2020-01-01T00:00:00Z" },
      ],
      [
        "/api/v1/admin/webhooks",
        t.adminKey,
        { url: "https://hooks.example.com/in", events: ["blog.*"], enabled: false },
      ],
      ["/api/v1/admin/roles", t.adminKey, { name: "editor", permissions: ["blog.post.read"], inherits: "admin" }],
      ["/api/v1/platform/tenants", rootKey(), { slug: `x-${crypto.randomUUID().slice(0, 8)}`, name: "X", owner: "me" }],
    ];
    for (const [path, token, body] of cases) {
      const res = await call(path, { token, body });
      expect(res.status, path).toBe(400);
      expect(res.body, path).toMatchObject({ code: "validation_failed" });
      const unknown = Object.keys(body).at(-1) ?? "";
      expect(JSON.stringify(res.body.errors), path).toContain(unknown);
    }
    // The same bodies without the stray field are taken.
    const key = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "ci", scopes: ["blog.post.read"], expires_at: "2999-01-01T00:00:00Z" },
    });
    expect(key.status).toBe(201);
    expect(key.body.expires_at).toBe("2999-01-01T00:00:00.000Z");
  });
});
