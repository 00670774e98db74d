// A tenant's own `tenant` rate limit and its plan: the plan is the operator's, so a
// tenant's setting may lower its limit but never raise it past the plan's.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { gateway, parseList } from "./helpers";

const rootKey = () => String(env.PLATFORM_ROOT_KEY);

describe("a tenant's own tenant limit and its plan", () => {
  it("refuses a limit above the plan's when it is saved, and takes one below it", async () => {
    const { call, tenant } = gateway({ tenant: {} });
    const t = await tenant("plan-set");
    const patch = (limit: number, period_s = 60) =>
      call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body: { rate_limits: { tenant: { limit, period_s } } },
      });
    // Free is 18 000 a minute; the platform's maximum (enterprise's 180 000) is not a free tenant's.
    const raised = await patch(180_000);
    expect(raised.status, JSON.stringify(raised.body)).toBe(400);
    expect(raised.body.errors).toEqual([{ path: "body.rate_limits.tenant.limit", message: "at most 18000 per 60 s" }]);
    // The same rate over a longer period is the same ceiling, scaled.
    expect((await patch(18_000 * 60 + 1, 3600)).status).toBe(400);
    // Under 60 a minute (scaled to the period) is no limit for a whole tenant but a lockout.
    const floored = await patch(1, 86_400);
    expect(floored.status).toBe(400);
    expect(floored.body.errors).toEqual([
      { path: "body.rate_limits.tenant.limit", message: "at least 86400 per 86400 s (60 a minute) for a whole tenant" },
    ]);
    expect((await patch(59)).status).toBe(400);
    expect((await patch(60)).status).toBe(200);
    // A key's own limit has no floor: one a day may be meant for it.
    const principal = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { principal: { limit: 1, period_s: 86_400 } } },
    });
    expect(principal.status, JSON.stringify(principal.body)).toBe(200);
    const lowered = await patch(1000);
    expect(lowered.status, JSON.stringify(lowered.body)).toBe(200);
    const me = await call("/api/v1/me", { token: t.adminKey });
    expect(parseList(me.headers.get("ratelimit-policy")).tenant).toEqual({ q: 1000, w: 60 });
  });

  it("holds a limit saved under a bigger plan to the smaller plan the tenant is moved to", async () => {
    const { call, tenant } = gateway({ tenant: {} });
    const t = await tenant("plan-down");
    const plan = (name: string) =>
      call(`/api/v1/platform/tenants/${t.id}`, { method: "PATCH", token: rootKey(), body: { plan: name } });
    expect((await plan("enterprise")).status).toBe(200);
    const set = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { tenant: { limit: 100_000, period_s: 60 } } },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const policyOf = async () =>
      parseList((await call("/api/v1/me", { token: t.adminKey })).headers.get("ratelimit-policy")).tenant;
    expect(await policyOf()).toEqual({ q: 100_000, w: 60 });
    expect((await plan("free")).status).toBe(200);
    expect(await policyOf()).toEqual({ q: 18_000, w: 60 });
  });

  it("lifts a limit saved under the floor before the floor existed: the tenant is not locked out", async () => {
    const { call, tenant } = gateway({ tenant: {} });
    const t = await tenant("plan-floor");
    // What a PATCH could save before the floor: one request a minute for the whole tenant.
    const saved = await directory(env, t.id).updateSettings({
      ctx: { now: new Date(0).toISOString(), actor: { kind: "system", id: null }, requestId: null },
      patch: { rate_limits: { tenant: { limit: 1, period_s: 60 } } },
    });
    expect(saved.ok).toBe(true);
    const me = await call("/api/v1/me", { token: t.adminKey });
    expect(me.status).toBe(200);
    expect(parseList(me.headers.get("ratelimit-policy")).tenant).toEqual({ q: 60, w: 60 });
  });
});
