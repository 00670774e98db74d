// A 201 names where its resource is read (RFC 9110 §10.2.2), wherever a GET of it exists:
// a client follows Location instead of building the path from the body.
import { describe, expect, it } from "vitest";
import { call, login, newTenant, PASSWORD, rootKey } from "./helpers";

/** Follows a 201's Location with `token` and returns what the GET answers. */
async function follow(created: { status: number; headers: Headers }, token: string) {
  expect(created.status).toBe(201);
  const location = created.headers.get("location");
  expect(location).toMatch(/^\/api\/v1\//);
  return call(location ?? "", { token });
}

describe("Location on 201", () => {
  it("registration names the new user, whom the user reads once logged in", async () => {
    const t = await newTenant("loc-user");
    const email = "located@example.com";
    const created = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email, password: PASSWORD, name: "Located" },
    });
    expect(created.headers.get("location")).toBe(`/api/v1/users/${String(created.body.id)}`);
    const read = await follow(created, (await login(t.slug, email)).access_token);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.body.id);
  });

  it("creating a role names it", async () => {
    const t = await newTenant("loc-role");
    const created = await call("/api/v1/admin/roles", {
      token: t.adminKey,
      body: { name: "editor", permissions: ["blog.post.read"], description: "Reads" },
    });
    const read = await follow(created, t.adminKey);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe("editor");
  });

  it("creating a post names it", async () => {
    const t = await newTenant("loc-post");
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Here", content: "x" } });
    const read = await follow(created, t.adminKey);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.body.id);
  });

  it("starting two-factor names the enrolment, which the user reads as pending", async () => {
    const t = await newTenant("loc-2fa");
    const email = "enrolling@example.com";
    await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "Enrolling" } });
    const token = (await login(t.slug, email)).access_token;
    const created = await call("/api/v1/me/two-factor", { token, method: "POST" });
    expect(created.headers.get("location")).toBe("/api/v1/me/two-factor");
    const read = await follow(created, token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ enabled: false, pending: true });
  });

  it("creating a tenant names it", async () => {
    const slug = `loc-tenant-${crypto.randomUUID().slice(0, 8)}`;
    const created = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: slug } });
    const read = await follow(created, rootKey());
    expect(read.status).toBe(200);
    expect(read.body.slug).toBe(slug);
  });
});
