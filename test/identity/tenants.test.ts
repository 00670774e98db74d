import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant, rootKey } from "./helpers";

describe("platform: tenants (happy)", () => {
  it("creates a tenant with an admin key shown once, then lists and reads it", async () => {
    const slug = `acme-${Date.now().toString(36)}`;
    const created = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "Acme" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug, name: "Acme", plan: "free" });
    expect(created.body.admin_key).toMatch(/^plk_test_[A-Za-z0-9_-]{43}$/);
    expect(created.headers.get("cache-control")).toBe("no-store");

    const one = await call(`/api/v1/platform/tenants/${created.body.id}`, { token: rootKey() });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      id: created.body.id,
      slug,
      name: "Acme",
      plan: "free",
      status: "active",
      created_at: created.body.created_at,
      suspended_at: null,
      suspended_reason: null,
      version: 1,
      deleted_at: null,
      erasure_done: [],
      erasure_tried_at: null,
      erasure_failures: 0,
      erasure_failed_step: null,
      erasure_error: null,
    });
    // The whole list, page by page: test files share storage, so other tenants come first.
    const slugs: unknown[] = [];
    let cursor: unknown = "";
    do {
      const page = await call(`/api/v1/platform/tenants?limit=100&cursor=${cursor}`, { token: rootKey() });
      expect(page.status).toBe(200);
      expect(JSON.stringify(page.body)).not.toContain("plk_");
      slugs.push(...(page.body.items as Record<string, unknown>[]).map((t) => t.slug));
      cursor = page.body.next_cursor;
    } while (typeof cursor === "string");
    expect(slugs).toContain(slug);
  });

  it("the admin key holds every permission", async () => {
    const t = await newTenant();
    const me = await call("/api/v1/me", { token: t.adminKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: "api_key", key: { name: "admin", scopes: ["*"] } });
    expect(me.body.permissions).toEqual(expect.arrayContaining(["admin.keys.write", "identity.user.delete"]));
    expect(JSON.stringify(me.body)).not.toContain(t.adminKey);
  });

  it("pages through tenants with a cursor", async () => {
    await newTenant();
    await newTenant();
    const first = await call("/api/v1/platform/tenants?limit=1", { token: rootKey() });
    expect((first.body.items as unknown[]).length).toBe(1);
    expect(typeof first.body.next_cursor).toBe("string");
    const second = await call(`/api/v1/platform/tenants?limit=1&cursor=${first.body.next_cursor}`, {
      token: rootKey(),
    });
    expect((second.body.items as { id: string }[])[0]?.id).not.toBe((first.body.items as { id: string }[])[0]?.id);
  });
});

describe("platform: tenants (errors)", () => {
  it("409 when the slug is taken", async () => {
    const t = await newTenant();
    const again = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug: t.slug, name: "Again" } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("conflict");
  });

  it.each([["ab"], ["-abc"], ["abc-"], ["Acme"], ["a_b_c"], ["www"], ["x".repeat(64)]])(
    "refuses the slug %s",
    async (slug) => {
      const res = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "X" } });
      expect(res.status).toBe(400);
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual(["body.slug"]);
    },
  );

  it.each([["gold"], ["Pro"], [""]])("refuses the plan %j (a misspelt plan once got free's limits)", async (plan) => {
    const slug = `plan-${crypto.randomUUID().slice(0, 8)}`;
    const res = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: "X", plan } });
    expect(res.status).toBe(400);
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual(["body.plan"]);
  });

  it("404 for an unknown tenant id", async () => {
    const res = await call("/api/v1/platform/tenants/nope", { token: rootKey() });
    expect(res.status).toBe(404);
  });
});

describe("platform: tenants (security)", () => {
  it("401 without a credential and with a wrong root key", async () => {
    expect((await call("/api/v1/platform/tenants")).status).toBe(401);
    const wrong = await call("/api/v1/platform/tenants", { token: `${rootKey().slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("unauthenticated");
    // The key sent is refused, not missing (RFC 6750 §3.1).
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token", error_description="/);
    // Longer and shorter than the key, sharing its characters: only equality is the key.
    for (const near of [rootKey().slice(0, -1), `${rootKey()}x`, rootKey().repeat(2)]) {
      expect((await call("/api/v1/platform/tenants", { token: near })).status).toBe(401);
    }
  });

  it("401 saying the deployment has no root key when PLATFORM_ROOT_KEY is unset, not that the key is unknown", async () => {
    const { fetch } = testApp(modules, { PLATFORM_ROOT_KEY: undefined });
    const res = await fetch("/api/v1/platform/tenants", { headers: { authorization: `Bearer ${rootKey()}` } });
    const body = await expectProblem(res, 401, "unauthenticated");
    expect(body.detail).toBe(
      "this deployment has no PLATFORM_ROOT_KEY: platform routes take no credential until it is set",
    );
    // Off the platform routes a credential nobody issued is still just unknown.
    const off = await fetch("/api/v1/me", { headers: { authorization: `Bearer ${rootKey()}` } });
    expect((await expectProblem(off, 401, "unauthenticated")).detail).toBe(
      "the credential is unknown, expired or revoked",
    );
  });

  it("403 for a valid tenant credential on platform routes", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/platform/tenants", { token: t.adminKey });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
  });

  it("403 for the root key outside /api/v1/platform", async () => {
    const res = await call("/api/v1/me", { token: rootKey() });
    expect(res.status).toBe(403);
  });

  it("401 for a malformed Authorization header", async () => {
    const res = await call("/api/v1/platform/tenants", { headers: { authorization: `Basic ${rootKey()}` } });
    expect(res.status).toBe(401);
  });
});
