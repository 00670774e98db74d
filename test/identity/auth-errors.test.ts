import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import {
  call,
  login,
  mailSettled,
  mailTo,
  newTenant,
  newUser,
  PASSWORD,
  register,
  spentLongAgo,
  tokenIn,
} from "./helpers";

describe("auth (errors)", () => {
  it("lists every invalid registration field at once", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "not-an-email", password: "short", name: "" },
    });
    expect(res.status).toBe(400);
    expect((res.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "body.email",
      "body.name",
      "body.password",
    ]);
  });

  it("refuses passwords under 12 characters and over 1024 bytes", async () => {
    const t = await newTenant();
    for (const password of ["elevenchars", "é".repeat(513)]) {
      const res = await call("/api/v1/auth/register", {
        tenant: t.slug,
        body: { email: "x@example.com", password, name: "X" },
      });
      expect(res.status).toBe(400);
    }
  });

  it("409 for an email taken in the tenant, whatever its case", async () => {
    const t = await newTenant();
    await register(t.slug, "dup@example.com");
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "DUP@example.com", password: PASSWORD, name: "Again" },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("conflict");
  });

  it("409 for an email taken in the tenant, whatever the spelling of its domain (Unicode or punycode)", async () => {
    const t = await newTenant();
    const first = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: " Ada@Bücher.Example ", password: PASSWORD, name: "Ada" },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.email).toBe("ada@xn--bcher-kva.example");
    const again = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "ada@xn--bcher-kva.example", password: PASSWORD, name: "Again" },
    });
    expect(again.status).toBe(409);
    expect((await login(t.slug, "ada@bücher.example")).access_token).toBeTruthy();
    // The development mailbox reads its `to` as the directory does: the verification mail is found.
    expect((await mailTo(t.slug, "Ada@Bücher.example")).body).toContain("plv_");
  });

  it("401 with the same body for an unknown email and a wrong password", async () => {
    const t = await newTenant();
    await register(t.slug, "known@example.com");
    const unknown = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "nobody@example.com", password: PASSWORD },
    });
    const wrong = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "known@example.com", password: `${PASSWORD}!` },
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
  });

  it("400 tenant_required without a tenant, 404 tenant_not_found for an unknown one", async () => {
    const none = await call("/api/v1/auth/login", { body: { email: "a@example.com", password: PASSWORD } });
    expect(none.status).toBe(400);
    expect(none.body.code).toBe("tenant_required");
    const unknown = await call("/api/v1/auth/login", {
      tenant: "no-such-tenant",
      body: { email: "a@example.com", password: PASSWORD },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("tenant_not_found");
  });

  it("a spent refresh token revokes its family: the sibling stops working too", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const next = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(next.status).toBe(200);
    await spentLongAgo(t.id);
    const replay = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(replay.status).toBe(401);
    const sibling = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: next.body.refresh_token },
    });
    expect(sibling.status).toBe(401);
    // Other sessions of the same user are untouched.
    const other = await login(t.slug, u.email);
    expect((await call("/api/v1/me", { token: other.access_token })).status).toBe(200);
  });

  it("an expired refresh token is refused", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) => {
      state.storage.sql.exec("update refresh_tokens set expires_at = '2000-01-01T00:00:00.000Z'");
    });
    const res = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(res.status).toBe(401);
  });

  it("verification tokens are single use; bad tokens are invalid_token", async () => {
    const t = await newTenant();
    await register(t.slug, "v@example.com");
    const token = tokenIn(await mailTo(t.slug, "v@example.com"));
    expect((await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } })).status).toBe(204);
    const twice = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } });
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe("invalid_token");
    const bad = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: "plv_nope" } });
    expect(bad.body.code).toBe("invalid_token");
  });

  it("password reset tokens are single use and expire", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    const token = tokenIn(await mailTo(t.slug, u.email, "Reset"));
    const body = { token, password: "a brand new passphrase" };
    expect((await call("/api/v1/auth/password-reset/confirm", { tenant: t.slug, body })).status).toBe(204);
    const reused = await call("/api/v1/auth/password-reset/confirm", { tenant: t.slug, body });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("invalid_token");

    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    const second = tokenIn(await mailTo(t.slug, u.email, "Reset", 2));
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) => {
      state.storage.sql.exec(
        "update one_time_tokens set expires_at = '2000-01-01T00:00:00.000Z' where used_at is null",
      );
    });
    const expired = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: second, password: "another new passphrase" },
    });
    expect(expired.status).toBe(400);
  });

  it("password reset answers 202 for an unknown email and sends nothing", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: "ghost@example.com" } });
    expect(res.status).toBe(202);
    await mailSettled(t.slug);
    const box = await call("/api/v1/dev/mailbox?to=ghost@example.com", { tenant: t.slug });
    expect(box.body.items).toEqual([]);
  });

  it("a tenant requiring verified emails refuses unverified logins", async () => {
    const t = await newTenant();
    await register(t.slug, "unverified@example.com");
    const set = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { require_verified_email: true },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const res = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "unverified@example.com", password: PASSWORD },
    });
    expect(res.status).toBe(403);
    // The change itself is an event, so it reaches the audit log.
    let recorded: unknown[] = [];
    for (let i = 0; i < 100 && recorded.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      const audit = await call("/api/v1/admin/audit?action=identity.settings.updated", { token: t.adminKey });
      recorded = audit.body.items as unknown[];
    }
    expect(recorded).toHaveLength(1);
  });
});
