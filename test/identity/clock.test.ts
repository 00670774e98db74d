// Time comes from the platform's clock: with a manual clock, expiry is tested
// by moving the clock, not by waiting.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { tokenIn } from "./helpers";

const HOUR = 3_600_000;

function platformAt(start: string) {
  const clock = manualClock(start);
  const { fetch } = testApp([system(), tenants(), identity()], {}, MIGRATIONS, clock);
  const call = async (
    path: string,
    init: { token?: string; tenant?: string; body?: unknown; method?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.tenant) headers["x-tenant"] = init.tenant;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const tenant = async (slug: string) => {
    const res = await call("/api/v1/platform/tenants", { token: env.PLATFORM_ROOT_KEY, body: { slug, name: slug } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { slug, adminKey: String(res.body.admin_key) };
  };
  return { clock, call, tenant };
}

describe("the platform clock", () => {
  it("an expiring API key works until its expiry and not a moment after, cached or not", async () => {
    const { clock, call, tenant } = platformAt("2030-01-01T00:00:00.000Z");
    const t = await tenant(`clock-key-${crypto.randomUUID().slice(0, 8)}`);
    const expires_at = new Date(clock.now().getTime() + HOUR).toISOString();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "short-lived", scopes: ["identity.user.read"], expires_at },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = String(created.body.key);
    expect((await call("/api/v1/me", { token: key })).status).toBe(200);
    clock.advance(HOUR - 1000);
    expect((await call("/api/v1/me", { token: key })).status).toBe(200);
    clock.advance(1000);
    expect((await call("/api/v1/me", { token: key })).status).toBe(401);
  });

  it("an expired API key leaves the list of live keys, and revoking it is 404 like any key that is not live", async () => {
    const { clock, call, tenant } = platformAt("2030-01-15T00:00:00.000Z");
    const t = await tenant(`clock-list-${crypto.randomUUID().slice(0, 8)}`);
    const expires_at = new Date(clock.now().getTime() + HOUR).toISOString();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "short-lived", scopes: ["identity.user.read"], expires_at },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const listed = async () =>
      ((await call("/api/v1/admin/api-keys?limit=100", { token: t.adminKey })).body.items as { id: string }[]).map(
        (k) => k.id,
      );
    expect(await listed()).toContain(created.body.id);
    clock.advance(HOUR);
    expect(await listed()).not.toContain(created.body.id);
    const revoke = await call(`/api/v1/admin/api-keys/${created.body.id}`, { method: "DELETE", token: t.adminKey });
    expect({ status: revoke.status, code: revoke.body.code }).toEqual({ status: 404, code: "not_found" });
  });

  it("a reset token expires an hour after it was issued", async () => {
    const { clock, call, tenant } = platformAt("2030-02-01T00:00:00.000Z");
    const t = await tenant(`clock-reset-${crypto.randomUUID().slice(0, 8)}`);
    const body = { email: "ada@example.com", password: "correct horse battery staple", name: "Ada" };
    expect((await call("/api/v1/auth/register", { tenant: t.slug, body })).status).toBe(201);
    expect((await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: body.email } })).status).toBe(
      202,
    );
    // The mail queue's consumer fills the mailbox a moment after the request.
    let token = "";
    for (let i = 0; i < 200 && !token; i++) {
      const box = await call(`/api/v1/dev/mailbox?to=${body.email}`, { tenant: t.slug });
      const mail = (box.body.items as { subject: string; body: string }[]).find((m) => m.subject.startsWith("Reset"));
      token = mail ? tokenIn(mail) : "";
      if (!token) await new Promise((r) => setTimeout(r, 50));
    }
    expect(token).toMatch(/^plp_/);
    clock.advance(HOUR + 1000);
    const late = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token, password: "a brand new passphrase" },
    });
    expect(late.status).toBe(400);
    expect(late.body.code).toBe("invalid_token");
  });
});
