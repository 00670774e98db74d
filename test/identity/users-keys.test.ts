import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "./helpers";

describe("users", () => {
  it("lists users with a cursor for principals holding identity.user.read", async () => {
    const t = await newTenant();
    await newUser(t.slug);
    await newUser(t.slug);
    const page = await call("/api/v1/users?limit=1", { token: t.adminKey });
    expect(page.status).toBe(200);
    expect((page.body.items as unknown[]).length).toBe(1);
    const next = await call(`/api/v1/users?limit=1&cursor=${page.body.next_cursor}`, { token: t.adminKey });
    expect((next.body.items as unknown[]).length).toBe(1);
    expect(next.body.next_cursor).toBeNull();
  });

  it("a user reads and renames themself, but not others", async () => {
    const t = await newTenant();
    const a = await newUser(t.slug);
    const b = await newUser(t.slug);
    expect((await call(`/api/v1/users/${a.id}`, { token: a.access_token })).status).toBe(200);
    const renamed = await call(`/api/v1/users/${a.id}`, {
      method: "PATCH",
      token: a.access_token,
      body: { name: "Ada L." },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("Ada L.");
    expect((await call(`/api/v1/users/${b.id}`, { token: a.access_token })).status).toBe(403);
    const other = await call(`/api/v1/users/${b.id}`, { method: "PATCH", token: a.access_token, body: { name: "X" } });
    expect(other.status).toBe(403);
    const email = await call(`/api/v1/users/${a.id}`, {
      method: "PATCH",
      token: a.access_token,
      body: { email: "x@y.z" },
    });
    expect(email.status).toBe(400);
  });

  it("deleting needs identity.user.delete; then the user is gone", async () => {
    const t = await newTenant();
    const a = await newUser(t.slug);
    const b = await newUser(t.slug);
    expect((await call(`/api/v1/users/${b.id}`, { method: "DELETE", token: a.access_token })).status).toBe(403);
    expect((await call(`/api/v1/users/${b.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await call(`/api/v1/users/${b.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(404);
  });
});

describe("API keys", () => {
  it("creates a key shown once, lists it without the secret, and revokes it", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "deploy bot", scopes: ["identity.user.read", "identity.user.read"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "deploy bot", scopes: ["identity.user.read"], expires_at: null });
    const key = created.body.key as string;
    expect(key.startsWith(created.body.prefix as string)).toBe(true);
    const list = await call("/api/v1/admin/api-keys", { token: t.adminKey });
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect((list.body.items as { id: string }[]).map((k) => k.id)).toContain(created.body.id);
    const me = await call("/api/v1/me", { token: key });
    expect(me.body).toMatchObject({ kind: "api_key", permissions: ["identity.user.read"] });
    expect(
      (await call(`/api/v1/admin/api-keys/${created.body.id}`, { method: "DELETE", token: t.adminKey })).status,
    ).toBe(204);
    expect(
      (await call(`/api/v1/admin/api-keys/${created.body.id}`, { method: "DELETE", token: t.adminKey })).status,
    ).toBe(404);
  });

  it("names unknown permissions and refuses past expiry dates", async () => {
    const t = await newTenant();
    const unknown = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "x", scopes: ["identity.user.read", "blog.posts.fly"] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain("blog.posts.fly");
    const past = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "x", scopes: ["identity.user.read"], expires_at: "2001-01-01T00:00:00Z" },
    });
    expect(past.status).toBe(400);
  });

  it("records when a key was last used, off the response path", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "reader", scopes: ["identity.user.read"] },
    });
    const key = created.body as { id: string; key: string; last_used_at?: string | null };
    const lastUsed = async () => {
      const list = await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey });
      return (list.body.items as { id: string; last_used_at: string | null }[]).find((k) => k.id === key.id)
        ?.last_used_at;
    };
    expect(await lastUsed()).toBeNull();
    const before = new Date().toISOString();
    expect((await call("/api/v1/users", { token: key.key })).status).toBe(200);
    let seen: string | null | undefined = null;
    for (let i = 0; i < 100 && !seen; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      seen = await lastUsed();
    }
    expect(seen).toBeTruthy();
    expect(String(seen) >= before.slice(0, 19)).toBe(true);
  });

  it("another tenant's key id answers 404", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: b.adminKey,
      body: { name: "x", scopes: ["identity.user.read"] },
    });
    const res = await call(`/api/v1/admin/api-keys/${created.body.id}`, { method: "DELETE", token: a.adminKey });
    expect(res.status).toBe(404);
  });
});
